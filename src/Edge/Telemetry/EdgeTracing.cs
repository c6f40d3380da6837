using System.Diagnostics;
using Confluent.Kafka;
using Messaging.Contracts.Delivery;
using Messaging.Hosting.Telemetry;

namespace Messaging.Edge.Telemetry;

/// <summary>
/// Edge's spans of a traced message: <c>chat.command accept</c> (the frame until the command is
/// durable and the client told), the trace's root; <c>delivery push</c> (a routed event queued on
/// this node's sockets), a child of the Router's decision.
/// </summary>
internal static class EdgeTracing
{
    public const string Accept = "chat.command accept";

    public const string Push = "delivery push";

    public static readonly ActivitySource Source = new(EdgeMetrics.MeterName);

    /// <summary>
    /// The push span of a routed event: its trace context from the record's <c>traceparent</c>
    /// header (<c>Kafka:TraceHeaders</c>), else from the event inside (Kafka 0.9, older records);
    /// null for every other delivery and for an untraced event (no allocation).
    /// </summary>
    public static Activity? StartPush(NodeDelivery delivery, Headers? headers) =>
        delivery is EventRouted routed ? StartPush(routed.Event.Traceparent, headers) : null;

    /// <summary>The push span of a routed event whose <c>traceparent</c> (if any) was read without decoding the event.</summary>
    public static Activity? StartPush(string? eventTraceparent, Headers? headers) =>
        MessagingTelemetry.StartFrom(Source, Push, ActivityKind.Consumer, TraceHeaders.Read(headers, eventTraceparent));
}
