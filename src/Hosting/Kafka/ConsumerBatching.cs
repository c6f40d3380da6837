using System.Diagnostics;
using Confluent.Kafka;

namespace Messaging.Hosting.Kafka;

public static class ConsumerBatching
{
    /// <summary>
    /// Blocks up to <paramref name="firstWait"/> for one record, then drains what the client has
    /// already fetched (non-blocking) into <paramref name="batch"/>, up to <paramref name="maxBatch"/>.
    /// Returns the number of records added. Bounded batches keep memory flat and latency low:
    /// under load the batch fills from the prefetch queue without waiting. With a
    /// <paramref name="linger"/>, records that arrive within that long of the first one join the
    /// batch too, so a light, steady stream makes fewer, larger batches. A <paramref name="cut"/>
    /// ends the linger when requested (checked every <see cref="LingerCut.Poll"/> while it waits):
    /// the batch then takes only what was already fetched.
    /// </summary>
    public static int Drain<TKey, TValue>(
        IConsumer<TKey, TValue> consumer,
        List<ConsumeResult<TKey, TValue>> batch,
        int maxBatch,
        TimeSpan firstWait,
        CancellationToken cancellationToken,
        TimeSpan linger = default,
        LingerCut? cut = null)
    {
        var added = 0;
        var first = consumer.Consume(firstWait);
        if (first is null)
        {
            return 0;
        }

        if (!first.IsPartitionEOF)
        {
            batch.Add(first);
            added++;
        }

        var started = Stopwatch.GetTimestamp();
        while (added < maxBatch && !cancellationToken.IsCancellationRequested)
        {
            var left = linger - Stopwatch.GetElapsedTime(started);
            if (left <= TimeSpan.Zero || (cut is not null && cut.TryTake()))
            {
                // Lingered out, or cut: only what was already fetched from here on.
                linger = TimeSpan.Zero;
                left = TimeSpan.Zero;
            }

            var wait = cut is not null && left > cut.Poll ? cut.Poll : left;
            var next = consumer.Consume(wait);
            if (next is null)
            {
                if (wait < left)
                {
                    // Only a slice of the linger passed: look at the cut again.
                    continue;
                }

                break;
            }

            if (next.IsPartitionEOF)
            {
                continue;
            }

            batch.Add(next);
            added++;
        }

        return added;
    }

    /// <summary>
    /// The offsets to commit after a fully processed batch: per partition, one past the highest
    /// offset in the batch (Kafka commits the next offset to read).
    /// </summary>
    public static List<TopicPartitionOffset> CommitOffsets<TKey, TValue>(IReadOnlyList<ConsumeResult<TKey, TValue>> batch)
    {
        var highest = new Dictionary<TopicPartition, long>();
        for (var i = 0; i < batch.Count; i++)
        {
            var r = batch[i];
            if (!highest.TryGetValue(r.TopicPartition, out var current) || r.Offset.Value > current)
            {
                highest[r.TopicPartition] = r.Offset.Value;
            }
        }

        var result = new List<TopicPartitionOffset>(highest.Count);
        foreach (var (tp, offset) in highest)
        {
            result.Add(new TopicPartitionOffset(tp, new Offset(offset + 1)));
        }

        return result;
    }
}
