using System.Diagnostics;
using Messaging.Contracts;
using Messaging.Contracts.Delivery;
using Messaging.Contracts.Events;
using Messaging.Edge.Telemetry;
using Messaging.Hosting.Telemetry;
using static Messaging.UnitTests.Hosting.TestTraces;

namespace Messaging.UnitTests.Edge;

/// <summary>
/// Edge's push span takes a node record's trace context from its header (<c>Kafka:TraceHeaders</c>),
/// else from the routed event (Kafka 0.9, and records written before).
/// </summary>
public sealed class PushTraceTests : IDisposable
{
    private readonly ActivityListener _listener = Listen(EdgeMetrics.MeterName);

    private static EventRouted Routed(string? traceparent) => new()
    {
        Devices = ["ana/phone"],
        Event = new MessageSent
        {
            ChatId = "c",
            Seq = 1,
            Actor = new DeviceRef("bo", "phone"),
            OccurredAt = DateTimeOffset.UnixEpoch,
            MessageId = "m1",
            ClientMsgId = "k1",
            Body = "hi",
            Traceparent = traceparent,
        },
    };

    [Fact]
    public void A_routed_events_push_span_continues_the_trace_in_its_header_first()
    {
        using var span = EdgeTracing.StartPush(Routed(InRecord), TraceHeaders.Write(InHeader, enabled: true));

        span!.ParentId.Should().Be(InHeader);
    }

    [Fact]
    public void Without_a_header_the_push_span_continues_the_trace_inside_the_event()
    {
        using var span = EdgeTracing.StartPush(Routed(InRecord), null);
        using var empty = EdgeTracing.StartPush(Routed(InRecord), []);

        span!.ParentId.Should().Be(InRecord);
        empty!.ParentId.Should().Be(InRecord);
    }

    [Fact]
    public void An_untraced_event_or_another_delivery_starts_no_push_span()
    {
        EdgeTracing.StartPush(Routed(null), null).Should().BeNull();
        EdgeTracing.StartPush(Routed(null), []).Should().BeNull();
        EdgeTracing.StartPush(new CommandRejected { Devices = ["ana/phone"], ChatId = "c", CommandId = "k1", Code = "x", Message = "no" }, TraceHeaders.Write(InHeader, enabled: true)).Should().BeNull();
    }

    public void Dispose() => _listener.Dispose();
}
