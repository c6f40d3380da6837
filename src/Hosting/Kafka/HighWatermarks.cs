using Confluent.Kafka;

namespace Messaging.Hosting.Kafka;

/// <summary>The high watermarks of several partitions, asked of the broker at once.</summary>
public static class HighWatermarks
{
    /// <summary>
    /// One broker round trip per partition, all in flight together (librdkafka's query is
    /// thread-safe): asked one after another they were the Router's per-batch wait (4 partitions
    /// × 2 tables in series, ~19 % of its loop's time in a 1,000 sends/s profile,
    /// docs/benchmarks.md "Profiles"), and every causal sync paid the same series.
    /// </summary>
    public static long[] Query(IConsumer<string, byte[]> consumer, IReadOnlyList<TopicPartition> partitions, TimeSpan timeout)
    {
        var highs = new long[partitions.Count];
        Parallel.For(0, partitions.Count, i => highs[i] = consumer.QueryWatermarkOffsets(partitions[i], timeout).High.Value);
        return highs;
    }
}
