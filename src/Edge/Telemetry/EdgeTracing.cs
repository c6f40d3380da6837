using System.Diagnostics;

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
}
