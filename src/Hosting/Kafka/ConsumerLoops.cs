using Confluent.Kafka;

namespace Messaging.Hosting.Kafka;

/// <summary>What every consumer-group loop (the Router's chat and device loops) does the same way.</summary>
public static class ConsumerLoops
{
    /// <summary>
    /// Runs <paramref name="runOnce"/> (build a consumer and producer, consume until cancelled)
    /// until cancelled. A failure reports to <paramref name="onFailure"/> and starts over after
    /// <paramref name="backOff"/>: nothing of the failed batch was committed, so the next round
    /// re-reads it from the committed offsets.
    /// </summary>
    public static void RunRestarting(Action<CancellationToken> runOnce, Action<Exception> onFailure, TimeSpan backOff, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                runOnce(cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                onFailure(ex);
                cancellationToken.WaitHandle.WaitOne(backOff);
            }
        }
    }

    /// <summary>A group member's settings: a new group starts at the earliest offset (it must see every command ever appended), no EOF events.</summary>
    public static ConsumerConfig GroupConfig(KafkaClientFactory clients, string groupId, string clientId)
    {
        var config = clients.ConsumerConfig(groupId, clientId);
        config.AutoOffsetReset = AutoOffsetReset.Earliest;
        config.EnablePartitionEof = false;
        return config;
    }

    /// <summary>Leaves the group now, so the partitions move at once instead of after the session timeout.</summary>
    public static void Close<TKey, TValue>(IConsumer<TKey, TValue> consumer, Action<KafkaException> onFailure)
    {
        try
        {
            consumer.Close();
        }
        catch (KafkaException ex)
        {
            onFailure(ex);
        }
    }
}
