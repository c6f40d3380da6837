using Messaging.ReadModels.Checkpoints;

namespace Messaging.Projections.Rebuild;

/// <summary>One partition of a rebuild: the log's range, where the rebuild stands, what remains.</summary>
internal sealed record PartitionPlan(PartitionKey Partition, long Earliest, long End, long Position)
{
    /// <summary>Records in the log (an upper bound on a compacted topic, whose offsets have gaps).</summary>
    public long Total => Math.Max(0, End - Earliest);

    public long Remaining => Math.Max(0, End - Math.Max(Position, Earliest));

    public long Done => Total - Remaining;
}

/// <summary>The plan of a rebuild, computed from the log's watermarks and the rebuild's own checkpoints. Pure.</summary>
internal sealed record RebuildPlan(IReadOnlyList<PartitionPlan> Partitions)
{
    public long Total => Sum(static p => p.Total);

    public long Remaining => Sum(static p => p.Remaining);

    /// <summary>
    /// Starts at the rebuild's checkpoint when it has one (resume), else at the earliest offset
    /// still in the log; a checkpoint below the earliest offset (retention removed records) starts at earliest.
    /// </summary>
    public static RebuildPlan Create(IEnumerable<(PartitionKey Partition, long Low, long High)> watermarks, IReadOnlyDictionary<PartitionKey, long> resume)
    {
        var list = new List<PartitionPlan>();
        foreach (var (partition, low, high) in watermarks)
        {
            var position = resume.TryGetValue(partition, out var saved) ? Math.Max(saved, low) : low;
            list.Add(new PartitionPlan(partition, low, high, position));
        }

        list.Sort(static (a, b) => (a.Partition.Topic, a.Partition.Partition).CompareTo((b.Partition.Topic, b.Partition.Partition)));
        return new RebuildPlan(list);
    }

    /// <summary>Time left at the current rate; null before there is a rate to go by.</summary>
    public static TimeSpan? Eta(long remaining, double recordsPerSecond) =>
        remaining <= 0 ? TimeSpan.Zero
        : recordsPerSecond <= 0 || double.IsNaN(recordsPerSecond) ? null
        : TimeSpan.FromSeconds(Math.Min(remaining / recordsPerSecond, TimeSpan.MaxValue.TotalSeconds / 2));

    private long Sum(Func<PartitionPlan, long> value)
    {
        long total = 0;
        foreach (var p in Partitions)
        {
            total += value(p);
        }

        return total;
    }
}

/// <summary>What a rebuild tells the operator while it runs (a live table on a terminal, plain lines otherwise).</summary>
internal interface IRebuildProgress
{
    void Planned(string projection, RebuildPlan plan);

    void Phase(string text);

    void Advanced(PartitionKey partition, long position);
}
