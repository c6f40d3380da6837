using Messaging.Contracts.Topics;
using Messaging.ReadModels.Checkpoints;

namespace Messaging.Projections.Runtime;

/// <summary>
/// A page of records planned for one transaction: what to apply, what to park, and per
/// partition the checkpoint it ends at (one past its highest offset: skipped and parked records
/// advance it too, so a bad record is never read again).
/// </summary>
internal sealed class Page
{
    public List<ApplyRecord> Apply { get; private init; } = [];

    public List<DeadRecord> Dead { get; } = [];

    public Dictionary<PartitionKey, long> NextOffsets { get; } = [];

    public int Skipped { get; private set; }

    public int Count => Apply.Count + Dead.Count + Skipped;

    /// <param name="projection">Whose decoder.</param>
    /// <param name="records">The records, in log order.</param>
    /// <param name="names">The topic names.</param>
    /// <param name="bulk">A rebuild's bulk phase: values for <see cref="IProjection.BulkLoadAsync"/> (<see cref="IProjection.DecodeBulk"/>).</param>
    public static Page Plan(IProjection projection, IReadOnlyList<SourceRecord> records, TopicNames names, bool bulk = false)
    {
        // Sized at once: growing by doubling allocated (and copied) every smaller list on the way.
        var page = new Page { Apply = new List<ApplyRecord>(records.Count) };
        for (var i = 0; i < records.Count; i++)
        {
            var record = records[i];
            var decision = bulk ? projection.DecodeBulk(record, names) : projection.Decode(record, names);
            switch (decision.Disposition)
            {
                case Disposition.Apply:
                    page.Apply.Add(new ApplyRecord(record, decision.Value!));
                    break;
                case Disposition.DeadLetter:
                    page.Dead.Add(new DeadRecord(record, decision.Type, decision.Error ?? "undecodable"));
                    break;
                default:
                    page.Skipped++;
                    break;
            }

            var key = new PartitionKey(record.Topic, record.Partition);
            if (!page.NextOffsets.TryGetValue(key, out var next) || record.Offset + 1 > next)
            {
                page.NextOffsets[key] = record.Offset + 1;
            }
        }

        return page;
    }

    /// <summary>The same page without the records of <paramref name="partitions"/> (fenced or revoked).</summary>
    public Page Without(IReadOnlySet<PartitionKey> partitions)
    {
        var page = new Page { Skipped = Skipped };
        foreach (var r in Apply)
        {
            if (!partitions.Contains(new PartitionKey(r.Source.Topic, r.Source.Partition)))
            {
                page.Apply.Add(r);
            }
        }

        foreach (var d in Dead)
        {
            if (!partitions.Contains(new PartitionKey(d.Source.Topic, d.Source.Partition)))
            {
                page.Dead.Add(d);
            }
        }

        foreach (var (key, next) in NextOffsets)
        {
            if (!partitions.Contains(key))
            {
                page.NextOffsets[key] = next;
            }
        }

        return page;
    }
}
