using Confluent.Kafka;
using Messaging.Contracts;
using Messaging.Contracts.Topics;
using Messaging.Edge.Telemetry;
using Messaging.Hosting.Kafka;
using Messaging.ReadModels.Checkpoints;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Messaging.Edge.Sync;

/// <summary>
/// Makes <c>sync</c> causal: before streaming, waits (bounded by <c>Edge:SyncCatchUpMs</c>) until
/// the read model a sync reads has applied every <c>chat.events</c> record that existed when the
/// sync began. Without it, a device reconnecting right after messages were sent to it while offline
/// synced before the projection wrote them, and got them only on a later sync (the Router had
/// routed them to no node: the device was offline when it decided).
/// </summary>
/// <remarks>
/// A sync reads <c>chat_members</c> and <c>messages</c> (projection <c>chat</c>) and the device's
/// cursors, <c>device_cursors</c> (projection <c>inbox</c>, from <c>device.acks</c>). Cursors are
/// not waited for: a cursor behind an ack streams events the device already holds, a duplicate
/// the client drops, never a loss. One consumer handle (no group, never subscribed) answers the
/// watermark queries of every sync.
/// </remarks>
internal sealed class InboxCatchUp(
    KafkaClientFactory clients,
    TopicNames topics,
    CheckpointStore checkpoints,
    IOptions<EdgeOptions> options,
    TimeProvider clock,
    EdgeMetrics metrics,
    ILogger<InboxCatchUp> logger) : IDisposable
{
    /// <summary><c>checkpoints.projection</c> of the runners that read <c>chat.events</c> into the tables a sync reads (docs/read-models.md).</summary>
    internal static readonly string[] SyncProjections = ["chat"];

    private readonly EdgeOptions _options = options.Value;
    private readonly SemaphoreSlim _openGate = new(1, 1);
    private IConsumer<string, byte[]>? _consumer;
    private TopicPartition[]? _partitions;

    /// <summary>True when the chat projection caught up; false on timeout or when Kafka or PostgreSQL did not answer (the caller streams what is there).</summary>
    public async Task<bool> WaitAsync(DeviceRef device, CancellationToken cancellationToken)
    {
        var started = clock.GetTimestamp();
        var caughtUp = await WaitCoreAsync(device, started, cancellationToken);
        metrics.SyncWaited(clock.GetElapsedTime(started), caughtUp);
        return caughtUp;
    }

    /// <summary>The same wait for a check other than sync (a member check that found nothing yet), outside the sync metrics.</summary>
    public Task<bool> WaitUnmeteredAsync(DeviceRef device, CancellationToken cancellationToken) =>
        WaitCoreAsync(device, clock.GetTimestamp(), cancellationToken);

    private async Task<bool> WaitCoreAsync(DeviceRef device, long started, CancellationToken cancellationToken)
    {
        var deadline = started + (long)(_options.SyncCatchUp.TotalSeconds * clock.TimestampFrequency);
        try
        {
            var partitions = await PartitionsAsync(cancellationToken);
            var targets = await Task.Run(() => HighWatermarksOf(partitions, Remaining(deadline)), cancellationToken);
            while (true)
            {
                var applied = await checkpoints.AppliedAsync(SyncProjections, topics.ChatEvents, cancellationToken);
                if (CatchUpProgress.PartitionsBehind(targets, applied) == 0)
                {
                    return true;
                }

                if (Remaining(deadline) <= TimeSpan.Zero)
                {
                    EdgeLog.SyncCatchUpTimedOut(logger, device.UserId, device.DeviceId, _options.SyncCatchUpMs, CatchUpProgress.PartitionsBehind(targets, applied));
                    return false;
                }

                await Task.Delay(_options.SyncCatchUpPoll, clock, cancellationToken);
            }
        }
        catch (Exception ex) when (ex is KafkaException or NpgsqlException or TimeoutException)
        {
            EdgeLog.SyncCatchUpFailed(logger, ex, device.UserId, device.DeviceId);
            return false;
        }
    }

    private TimeSpan Remaining(long deadline)
    {
        var now = clock.GetTimestamp();
        return now >= deadline ? TimeSpan.Zero : clock.GetElapsedTime(now, deadline);
    }

    /// <summary>The high watermark of every partition: the offset the next record will get, so "applied" means next_offset ≥ it.</summary>
    private long[] HighWatermarksOf(TopicPartition[] partitions, TimeSpan timeout)
    {
        if (timeout <= TimeSpan.Zero)
        {
            throw new TimeoutException("no time left to read the chat.events watermarks");
        }

        return HighWatermarks.Query(_consumer!, partitions, timeout);
    }

    /// <summary>
    /// Opens the shared consumer handle and reads the partitions of <c>chat.events</c> once. A
    /// failure (broker down at the first sync) leaves nothing cached, so the next sync retries.
    /// </summary>
    private async Task<TopicPartition[]> PartitionsAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _partitions) is { } known)
        {
            return known;
        }

        await _openGate.WaitAsync(cancellationToken);
        try
        {
            if (_partitions is not null)
            {
                return _partitions;
            }

            var timeout = _options.SyncCatchUp;
            var partitions = await Task.Run(
                () =>
                {
                    var clientId = $"edge-sync-{_options.NodeId}";
                    using var admin = new AdminClientBuilder(clients.AdminConfig(clientId)).Build();
                    var metadata = admin.GetMetadata(topics.ChatEvents, timeout);
                    return metadata.Topics.Single(t => t.Topic == topics.ChatEvents).Partitions
                        .Select(p => new TopicPartition(topics.ChatEvents, p.PartitionId))
                        .OrderBy(p => p.Partition.Value)
                        .ToArray();
                },
                cancellationToken);
            if (partitions.Length == 0)
            {
                throw new KafkaException(ErrorCode.UnknownTopicOrPart);
            }

            // A group id is required by the client; this handle never joins it (no subscribe, no commit).
            _consumer ??= new ConsumerBuilder<string, byte[]>(clients.ConsumerConfig($"edge-sync-{Guid.NewGuid():N}", $"edge-sync-{_options.NodeId}")).Build();
            Volatile.Write(ref _partitions, partitions);
            return partitions;
        }
        finally
        {
            _openGate.Release();
        }
    }

    public void Dispose()
    {
        _consumer?.Dispose();
        _openGate.Dispose();
    }
}

/// <summary>The pure part of the catch-up decision.</summary>
internal static class CatchUpProgress
{
    /// <summary>
    /// Partitions whose applied position is below the target. <paramref name="targets"/> is
    /// indexed by partition; a partition with target 0 (empty) needs nothing, one without a
    /// checkpoint row has applied nothing.
    /// </summary>
    public static int PartitionsBehind(IReadOnlyList<long> targets, IReadOnlyDictionary<int, long> applied)
    {
        var behind = 0;
        for (var partition = 0; partition < targets.Count; partition++)
        {
            if (targets[partition] > 0 && applied.GetValueOrDefault(partition) < targets[partition])
            {
                behind++;
            }
        }

        return behind;
    }
}
