using Confluent.Kafka;
using Messaging.Hosting.Kafka;

namespace Messaging.Bench.Marten;

/// <summary>
/// The worker loop of the Marten evaluation: reads <c>chat.events</c> from the positions saved in
/// Marten (the beginning when none) and applies it page by page through <see cref="MartenChatIngest"/>
/// until every partition reaches the given end. Bounded by design (a bench and a test drive it).
/// </summary>
public sealed class MartenChatCopy(MartenChatIngest ingest, KafkaClientFactory clients, int pageSize)
{
    /// <summary>Called after each committed page with the events applied so far.</summary>
    public Action<long>? Committed { get; init; }

    public async Task<IngestOutcome> CopyAsync(IReadOnlyDictionary<TopicPartition, long> ends, CancellationToken cancellationToken)
    {
        var saved = await ingest.PositionsAsync(cancellationToken);
        var remaining = new Dictionary<TopicPartition, long>();
        var assignment = new List<TopicPartitionOffset>();
        foreach (var (partition, end) in ends)
        {
            var from = saved.TryGetValue(KafkaPosition.IdOf(partition.Topic, partition.Partition.Value), out var n) ? n : 0;
            if (from < end)
            {
                remaining[partition] = end;
                assignment.Add(new TopicPartitionOffset(partition, new Offset(from)));
            }
        }

        var total = default(IngestOutcome);
        if (remaining.Count == 0)
        {
            return total;
        }

        using var consumer = new ConsumerBuilder<string, byte[]>(clients.ConsumerConfig("marten-copy", "marten-copy")).Build();
        consumer.Assign(assignment);
        var batch = new List<ConsumeResult<string, byte[]>>(pageSize);
        var page = new List<IngestRecord>(pageSize);
        var applied = 0L;
        try
        {
            while (remaining.Count > 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
                batch.Clear();
                page.Clear();
                ConsumerBatching.Drain(consumer, batch, pageSize, TimeSpan.FromMilliseconds(100), cancellationToken);
                foreach (var r in batch)
                {
                    page.Add(new IngestRecord(r.Topic, r.Partition.Value, r.Offset.Value, r.Message.Value));
                    if (remaining.TryGetValue(r.TopicPartition, out var end) && r.Offset.Value + 1 >= end)
                    {
                        remaining.Remove(r.TopicPartition);
                    }
                }

                if (page.Count == 0)
                {
                    continue;
                }

                var outcome = await ingest.ApplyAsync(page, cancellationToken);
                total = new IngestOutcome(total.Appended + outcome.Appended, total.Duplicates + outcome.Duplicates, total.Undecodable + outcome.Undecodable);
                applied += page.Count;
                Committed?.Invoke(applied);
            }
        }
        finally
        {
            consumer.Close();
        }

        return total;
    }
}
