using Confluent.Kafka;
using Messaging.Contracts;
using Messaging.Contracts.Topics;
using Messaging.Edge.Telemetry;
using Messaging.Hosting.Kafka;
using Messaging.ReadModels.Checkpoints;
using Messaging.ReadModels.Inbox;
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
/// not waited for by a sync: a cursor behind an ack streams events the device already holds, a
/// duplicate the client drops, never a loss. The chat list's unread count is a count of them, so
/// it waits for the cursors too (<see cref="WaitForCursorsAsync"/>). One consumer handle (no group,
/// never subscribed) answers the watermark queries of every wait.
/// </remarks>
internal sealed class InboxCatchUp(
    KafkaClientFactory clients,
    TopicNames topics,
    CheckpointStore checkpoints,
    CursorFlushRequests flushRequests,
    IOptions<EdgeOptions> options,
    TimeProvider clock,
    EdgeMetrics metrics,
    ILogger<InboxCatchUp> logger) : IDisposable
{
    /// <summary><c>checkpoints.projection</c> of the runners that read <c>chat.events</c> into the tables a sync reads (docs/read-models.md).</summary>
    internal static readonly string[] SyncProjections = ["chat"];

    /// <summary><c>checkpoints.projection</c> of the runner that writes <c>device_cursors</c> from <c>device.acks</c>.</summary>
    internal static readonly string[] CursorProjections = ["inbox"];

    private readonly EdgeOptions _options = options.Value;
    private readonly SemaphoreSlim _openGate = new(1, 1);
    private readonly Log _chatEvents = new(topics.ChatEvents, SyncProjections, AsksForFlush: false);

    // Only the cursors' runner lingers; the chat runner's lag is its fetch wait.
    private readonly Log _deviceAcks = new(topics.DeviceAcks, CursorProjections, AsksForFlush: true);
    private IConsumer<string, byte[]>? _consumer;
    private long _lastFlushRequest;

    /// <summary>True when the chat projection caught up; false on timeout or when Kafka or PostgreSQL did not answer (the caller streams what is there).</summary>
    public async Task<bool> WaitAsync(DeviceRef device, CancellationToken cancellationToken)
    {
        var started = clock.GetTimestamp();
        var caughtUp = await WaitCoreAsync(device, _chatEvents, started, cancellationToken);
        metrics.SyncWaited(clock.GetElapsedTime(started), caughtUp);
        return caughtUp;
    }

    /// <summary>The same wait for a check other than sync (a member check that found nothing yet), outside the sync metrics.</summary>
    public Task<bool> WaitUnmeteredAsync(DeviceRef device, CancellationToken cancellationToken) =>
        WaitCoreAsync(device, _chatEvents, clock.GetTimestamp(), cancellationToken);

    /// <summary>
    /// Waits (bounded by <c>Edge:SyncCatchUpMs</c>) until the <c>inbox</c> runner has written every
    /// <c>device.acks</c> record that existed when asked, so a count of what a device has not
    /// received counts none it acked before. When the runner is behind, asks it to close its
    /// lingering page at once (<see cref="CursorFlushRequests"/>); an ack still in a node's
    /// <c>Edge:AckBatchMs</c> batch is not in the log yet and is not waited for.
    /// </summary>
    public Task<bool> WaitForCursorsAsync(DeviceRef device, CancellationToken cancellationToken) =>
        WaitCoreAsync(device, _deviceAcks, clock.GetTimestamp(), cancellationToken);

    private async Task<bool> WaitCoreAsync(DeviceRef device, Log log, long started, CancellationToken cancellationToken)
    {
        var deadline = started + (long)(_options.SyncCatchUp.TotalSeconds * clock.TimestampFrequency);
        var askedAt = -1L;
        try
        {
            var partitions = await PartitionsAsync(log, cancellationToken);
            var targets = await Task.Run(() => HighWatermarksOf(log, partitions, Remaining(deadline)), cancellationToken);
            while (true)
            {
                var applied = await checkpoints.AppliedAsync(log.Projections, log.Topic, cancellationToken);
                if (CatchUpProgress.PartitionsBehind(targets, applied) == 0)
                {
                    return true;
                }

                // Asked again whenever a page was applied and it is still behind: a request can
                // close a page that began before the awaited record was fetched.
                if (log.AsksForFlush && CatchUpProgress.Sum(applied) is var progress && progress != askedAt)
                {
                    askedAt = progress;
                    await RequestFlushAsync(cancellationToken);
                }

                if (Remaining(deadline) <= TimeSpan.Zero)
                {
                    EdgeLog.CatchUpTimedOut(logger, device.UserId, device.DeviceId, log.Projections[0], _options.SyncCatchUpMs, CatchUpProgress.PartitionsBehind(targets, applied), log.Topic);
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

    /// <summary>
    /// At most one request per <c>Edge:SyncCatchUpPollMs</c> per node: each is a PostgreSQL
    /// notification, and many chat lists at once (an app-open storm) need the page closed once.
    /// One skipped here follows one sent a moment ago, and a page applied since makes its caller ask again.
    /// </summary>
    private Task RequestFlushAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetTimestamp();
        var last = Interlocked.Read(ref _lastFlushRequest);
        if (last != 0 && clock.GetElapsedTime(last, now) < _options.SyncCatchUpPoll)
        {
            return Task.CompletedTask;
        }

        Interlocked.Exchange(ref _lastFlushRequest, now);
        return flushRequests.RequestAsync(cancellationToken);
    }

    private TimeSpan Remaining(long deadline)
    {
        var now = clock.GetTimestamp();
        return now >= deadline ? TimeSpan.Zero : clock.GetElapsedTime(now, deadline);
    }

    /// <summary>The high watermark of every partition: the offset the next record will get, so "applied" means next_offset ≥ it.</summary>
    private long[] HighWatermarksOf(Log log, TopicPartition[] partitions, TimeSpan timeout)
    {
        if (timeout <= TimeSpan.Zero)
        {
            throw new TimeoutException($"no time left to read the {log.Topic} watermarks");
        }

        return HighWatermarks.Query(_consumer!, partitions, timeout);
    }

    /// <summary>
    /// Opens the shared consumer handle and reads the partitions of the log once. A failure
    /// (broker down at the first sync) leaves nothing cached, so the next wait retries.
    /// </summary>
    private async Task<TopicPartition[]> PartitionsAsync(Log log, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref log.Partitions) is { } known)
        {
            return known;
        }

        await _openGate.WaitAsync(cancellationToken);
        try
        {
            if (log.Partitions is not null)
            {
                return log.Partitions;
            }

            var timeout = _options.SyncCatchUp;
            var partitions = await Task.Run(
                () =>
                {
                    var clientId = $"edge-sync-{_options.NodeId}";
                    using var admin = new AdminClientBuilder(clients.AdminConfig(clientId)).Build();
                    var metadata = admin.GetMetadata(log.Topic, timeout);
                    return metadata.Topics.Single(t => t.Topic == log.Topic).Partitions
                        .Select(p => new TopicPartition(log.Topic, p.PartitionId))
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
            Volatile.Write(ref log.Partitions, partitions);
            return partitions;
        }
        finally
        {
            _openGate.Release();
        }
    }

    /// <summary>A log waited for, the runners that apply it, whether a wait asks them to flush, and its partitions once read.</summary>
    private sealed class Log(string topic, string[] projections, bool AsksForFlush)
    {
        public readonly string Topic = topic;
        public readonly string[] Projections = projections;
        public readonly bool AsksForFlush = AsksForFlush;
        public TopicPartition[]? Partitions;
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

    /// <summary>The sum of the applied positions: it moves whenever a page of any partition was applied.</summary>
    public static long Sum(IReadOnlyDictionary<int, long> applied)
    {
        var sum = 0L;
        foreach (var (_, next) in applied)
        {
            sum += next;
        }

        return sum;
    }
}
