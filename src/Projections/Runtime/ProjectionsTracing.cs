using System.Diagnostics;
using Messaging.Contracts.Events;
using Messaging.Hosting.Telemetry;

namespace Messaging.Projections.Runtime;

/// <summary>
/// The projections' span of a traced message: <c>projection apply</c>, one per traced event of a
/// committed page, from the page's start to its commit, a child of the Router's decision.
/// </summary>
internal static class ProjectionsTracing
{
    public const string Apply = "projection apply";

    public static readonly ActivitySource Source = new(ProjectionMetrics.MeterName);

    /// <summary>Spans for the traced events of a committed page; the caller checks <see cref="ActivitySource.HasListeners"/> first.</summary>
    public static void PageCommitted(string projection, Page page, DateTimeOffset started)
    {
        foreach (var record in page.Apply)
        {
            // The header (Kafka:TraceHeaders) first, else the event's own field (Kafka 0.9, older records).
            if (record.Value is not ChatEvent evt || TraceHeaders.Read(record.Source.Headers, evt.Traceparent) is not { } traceparent)
            {
                continue;
            }

            using var activity = MessagingTelemetry.StartFrom(Source, Apply, ActivityKind.Consumer, traceparent);
            if (activity is not null)
            {
                activity.SetStartTime(started.UtcDateTime);
                activity.SetTag("messaging.projection", projection);
                activity.SetTag("messaging.page.size", page.Count);
            }
        }
    }
}
