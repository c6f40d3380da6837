using System.Diagnostics;

namespace Messaging.Hosting.Telemetry;

/// <summary>
/// Names shared by every service's instruments and spans, and the one place that turns a
/// message's <c>traceparent</c> (W3C trace context, carried inside the records because Kafka 0.9
/// has no headers, or in a record header under <c>Kafka:TraceHeaders</c>, <see cref="TraceHeaders"/>)
/// into a span and back.
/// </summary>
public static class MessagingTelemetry
{
    /// <summary>Every meter and activity source of the services starts with this (<c>Messaging.Edge</c>, <c>Messaging.Router</c>, …).</summary>
    public const string Prefix = "Messaging.";

    /// <summary>The trace context of the current span if it is recorded (sampled), for a record's <c>traceparent</c>; else null.</summary>
    public static string? CurrentTraceparent()
    {
        var activity = Activity.Current;
        return activity is { Recorded: true } ? activity.Id : null;
    }

    /// <summary>
    /// Starts a span continuing the trace in <paramref name="traceparent"/>; null (no allocation,
    /// no span) when the record carries none or nobody listens. The span becomes
    /// <see cref="Activity.Current"/> until disposed.
    /// </summary>
    public static Activity? StartFrom(ActivitySource source, string name, ActivityKind kind, string? traceparent)
    {
        if (traceparent is null || !source.HasListeners() || !ActivityContext.TryParse(traceparent, null, isRemote: true, out var parent))
        {
            return null;
        }

        return source.StartActivity(name, kind, parent);
    }

    /// <summary>
    /// Starts a new trace for one client request, never a child of the long-lived request that
    /// holds the WebSocket (whose span would otherwise parent every message of the connection).
    /// </summary>
    public static Activity? StartRoot(ActivitySource source, string name, ActivityKind kind)
    {
        if (!source.HasListeners())
        {
            return null;
        }

        var outer = Activity.Current;
        Activity.Current = null;
        try
        {
            return source.StartActivity(name, kind);
        }
        finally
        {
            if (Activity.Current is null)
            {
                Activity.Current = outer;
            }
        }
    }
}
