using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;

namespace Messaging.Edge.Telemetry;

/// <summary>
/// Frames counted by type in plain counters, reported by an observable counter when metrics are
/// collected. A tagged <c>Counter.Add</c> per frame went through every listener's tag lookup
/// (OpenTelemetry's <c>AggregatorStore.Update</c>) twice per delivered copy in groups of 1,024 (the
/// push and its ack): ~1 % of an Edge node's CPU samples (docs/benchmarks.md, twentieth session).
/// Keyed by the name's value, so the same name held in two strings is one counter.
/// </summary>
internal sealed class FrameCounts
{
    private readonly ConcurrentDictionary<string, StrongBox<long>> _counts = new(StringComparer.Ordinal);

    public void Increment(string type)
    {
        if (!_counts.TryGetValue(type, out var count))
        {
            count = _counts.GetOrAdd(type, static _ => new StrongBox<long>());
        }

        Interlocked.Increment(ref count.Value);
    }

    /// <summary>The totals by type, as the observable counter reports them (tag <c>type</c>).</summary>
    public IEnumerable<Measurement<long>> Observe()
    {
        var measurements = new List<Measurement<long>>(_counts.Count);
        foreach (var (type, count) in _counts)
        {
            measurements.Add(new Measurement<long>(Volatile.Read(ref count.Value), new KeyValuePair<string, object?>("type", type)));
        }

        return measurements;
    }
}
