using Confluent.Kafka;

namespace Messaging.Bench.Components;

/// <summary>Record counts from offsets: high minus low watermark per partition, and a group's committed progress.</summary>
public sealed class OffsetProbe(IConsumer<string, byte[]> consumer) : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    /// <summary>Records currently in the partitions (high − low watermark, summed).</summary>
    public long Count(IReadOnlyList<TopicPartition> partitions)
    {
        long total = 0;
        foreach (var partition in partitions)
        {
            var w = consumer.QueryWatermarkOffsets(partition, Timeout);
            total += w.High.Value - w.Low.Value;
        }

        return total;
    }

    /// <summary>High watermarks per partition (the end a consumer has to reach).</summary>
    public Dictionary<TopicPartition, long> Ends(IReadOnlyList<TopicPartition> partitions)
    {
        var ends = new Dictionary<TopicPartition, long>(partitions.Count);
        foreach (var partition in partitions)
        {
            ends[partition] = consumer.QueryWatermarkOffsets(partition, Timeout).High.Value;
        }

        return ends;
    }

    /// <summary>Records the probe's group has committed past (a partition without a commit counts from 0).</summary>
    public long Committed(IReadOnlyList<TopicPartition> partitions)
    {
        long total = 0;
        foreach (var offset in consumer.Committed(partitions, Timeout))
        {
            total += Progress(offset.Offset.Value);
        }

        return total;
    }

    /// <summary>A committed offset as records done; librdkafka reports "no commit" as a negative sentinel.</summary>
    internal static long Progress(long committed) => Math.Max(0, committed);

    public void Dispose()
    {
        consumer.Close();
        consumer.Dispose();
    }
}
