using System.Collections.Concurrent;

namespace Messaging.Projections.Runtime;

/// <summary>Counters per projection since the process started (shown by <c>GET /v1/projections/status</c>).</summary>
internal sealed class ProjectionMetrics
{
    private readonly ConcurrentDictionary<string, Counters> _counters = new(StringComparer.Ordinal);

    public void Applied(string projection, int applied, int deadLettered, int skipped)
    {
        var c = _counters.GetOrAdd(projection, static _ => new Counters());
        Interlocked.Add(ref c.Applied, applied);
        Interlocked.Add(ref c.DeadLettered, deadLettered);
        Interlocked.Add(ref c.Skipped, skipped);
        Interlocked.Increment(ref c.Pages);
    }

    /// <summary>How many partitions the runner owns right now (after each assignment or revocation).</summary>
    public void Owned(string projection, int partitions) =>
        Interlocked.Exchange(ref _counters.GetOrAdd(projection, static _ => new Counters()).OwnedPartitions, partitions);

    public IReadOnlyDictionary<string, Counters> Snapshot() => _counters;

    internal sealed class Counters
    {
        public long Applied;
        public long DeadLettered;
        public long Skipped;
        public long Pages;
        public int OwnedPartitions;
    }
}
