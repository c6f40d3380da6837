using Confluent.Kafka;

namespace Messaging.Hosting.Kafka;

/// <summary>The high watermarks of several partitions, asked of the broker at once.</summary>
public static class HighWatermarks
{
    /// <summary>
    /// One <c>ListOffsets</c> request per partition leader for "latest" of every partition
    /// (librdkafka's <c>offsets_for_times</c> with <see cref="Offset.End"/>, which Kafka 0.9's
    /// ListOffsets v0 answers with the high watermark). <c>QueryWatermarkOffsets</c> sends two
    /// requests per partition (low and high): the Router's directory catch-up before every batch
    /// (4 partitions × 2 tables) was 16 requests, run on 8 thread-pool work items, for what is one
    /// request here (docs/benchmarks.md, "Directory catch-up in one request"). Fresh from the
    /// broker, never a cached value: callers rely on it for read-your-writes.
    /// </summary>
    public static long[] Query(IConsumer<string, byte[]> consumer, IReadOnlyList<TopicPartition> partitions, TimeSpan timeout)
    {
        var latest = new List<TopicPartitionTimestamp>(partitions.Count);
        for (var i = 0; i < partitions.Count; i++)
        {
            latest.Add(new TopicPartitionTimestamp(partitions[i], new Timestamp(Offset.End.Value, TimestampType.NotAvailable)));
        }

        var answers = consumer.OffsetsForTimes(latest, timeout);
        var highs = new long[partitions.Count];
        for (var i = 0; i < partitions.Count; i++)
        {
            // librdkafka answers in place, in the order asked; searched anyway, the list is short.
            highs[i] = OffsetOf(answers, partitions[i]);
        }

        return highs;
    }

    private static long OffsetOf(List<TopicPartitionOffset> answers, TopicPartition partition)
    {
        foreach (var answer in answers)
        {
            if (answer.TopicPartition == partition)
            {
                if (answer.Offset.Value < 0)
                {
                    throw new KafkaException(ErrorCode.OffsetNotAvailable);
                }

                return answer.Offset.Value;
            }
        }

        throw new KafkaException(ErrorCode.UnknownTopicOrPart);
    }
}
