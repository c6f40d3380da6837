using System.Diagnostics;
using Confluent.Kafka;
using Messaging.Contracts.Topics;
using Messaging.Hosting;
using Messaging.Hosting.Kafka;
using Messaging.Hosting.Postgres;
using Messaging.Hosting.Telemetry;
using Messaging.ReadModels.Checkpoints;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Messaging.Projections.Runtime;

/// <summary>
/// One consumer loop for one projection. Positions come from the <c>checkpoints</c> table on
/// every assignment (never from the group's committed offsets); each page is one transaction
/// whose checkpoint update is guarded by the value this owner last saw.
/// </summary>
internal sealed class ProjectionRunner(
    IProjection projection,
    KafkaClientFactory clients,
    TopicNames names,
    NpgsqlDataSource dataSource,
    CheckpointStore checkpoints,
    IOptions<ProjectionsOptions> options,
    IOptions<PostgresOptions> postgres,
    ProjectionMetrics metrics,
    ConsumerLag lag,
    LingerCut lingerCut,
    ILogger<ProjectionRunner> logger) : BackgroundService
{
    private readonly PageApplier _applier = new(dataSource, projection, postgres.Value.Schema);

    /// <summary>Owned partitions and the checkpoint last seen for each (null: no row yet). Touched only by the loop thread.</summary>
    private readonly Dictionary<PartitionKey, long?> _owned = [];

    public string GroupId => $"{names.Prefix}projections.{projection.Name}";

    // The consumer API blocks; run the loop off the host's start-up path.
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.Run(() => RunAsync(stoppingToken), stoppingToken);

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var config = clients.ConsumerConfig(GroupId, $"projections-{projection.Name}-{Environment.ProcessId}");
        if (settings.BatchesFetches(projection.Name))
        {
            config.FetchMinBytes = settings.FetchMinBytes;
            config.FetchWaitMaxMs = settings.FetchWaitMaxMs;
        }
        using var consumer = new ConsumerBuilder<string, byte[]>(config)
            .SetPartitionsAssignedHandler((_, partitions) => OnAssigned(partitions, cancellationToken))
            .SetPartitionsRevokedHandler((_, partitions) => OnRevoked(partitions))
            .SetPartitionsLostHandler((_, partitions) => OnRevoked(partitions))
            .SetErrorHandler((_, error) => ProjectionsLog.KafkaError(logger, projection.Name, error.Reason))
            .Build();
        consumer.Subscribe(projection.Topics(names));
        ProjectionsLog.RunnerStarted(logger, projection.Name, GroupId);

        var batch = new List<ConsumeResult<string, byte[]>>(settings.BatchSize);
        var records = new List<SourceRecord>(settings.BatchSize);
        var wait = TimeSpan.FromMilliseconds(settings.MaxBatchWaitMs);
        var linger = settings.PageLingerFor(projection.Name);
        // Only the inbox runner lingers, and only its pages are asked for (CursorFlushListener).
        var cut = linger > TimeSpan.Zero ? lingerCut : null;
        var lagProbe = lag.For(GroupId);

        // Stop takes no new records; a page in hand is applied and committed under this token
        // (cancelling it at once rolled the page back for the next owner to apply again).
        using var drain = new DrainDeadline(TimeSpan.FromMilliseconds(settings.DrainTimeoutMs), cancellationToken);
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                batch.Clear();
                records.Clear();
                try
                {
                    ConsumerBatching.Drain(consumer, batch, settings.BatchSize, wait, cancellationToken, linger, cut);
                    lagProbe.Observe(consumer);
                }
                catch (ConsumeException ex)
                {
                    ProjectionsLog.KafkaError(logger, projection.Name, ex.Error.Reason);
                    continue;
                }

                for (var i = 0; i < batch.Count; i++)
                {
                    var r = batch[i];
                    // A record of a partition revoked (or fenced) during this drain is not ours to write.
                    if (_owned.ContainsKey(new PartitionKey(r.Topic, r.Partition.Value)))
                    {
                        records.Add(new SourceRecord(r.Topic, r.Partition.Value, r.Offset.Value, r.Message.Key, r.Message.Value, r.Message.Headers));
                    }
                }

                if (records.Count == 0)
                {
                    continue;
                }

                var page = Page.Plan(projection, records, names);
                await ApplyAsync(consumer, page, drain.Token);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            consumer.Close();
            lagProbe.Clear();
            ProjectionsLog.RunnerStopped(logger, projection.Name);
        }
    }

    private async Task ApplyAsync(IConsumer<string, byte[]> consumer, Page page, CancellationToken cancellationToken)
    {
        var backoff = options.Value.RetryBackoffMs;
        while (page.NextOffsets.Count > 0)
        {
            var started = Stopwatch.GetTimestamp();
            var startedAt = DateTimeOffset.UtcNow;
            ApplyOutcome outcome;
            try
            {
                outcome = await _applier.ApplyAsync(page, _owned, TableSet.Live, projection.Name, takeLock: true, cancellationToken);
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException && !cancellationToken.IsCancellationRequested)
            {
                // Not the record's fault (database down, deadlock, lock timeout): same page again, later.
                ProjectionsLog.PageFailed(logger, ex, projection.Name, page.Count, backoff);
                await Task.Delay(backoff, cancellationToken);
                backoff = Math.Min(backoff * 2, options.Value.MaxRetryBackoffMs);
                continue;
            }

            if (outcome.Committed)
            {
                var offsets = new List<TopicPartitionOffset>(page.NextOffsets.Count);
                foreach (var (partition, next) in page.NextOffsets)
                {
                    _owned[partition] = next;
                    offsets.Add(new TopicPartitionOffset(partition.Topic, partition.Partition, next));
                }

                metrics.Applied(projection.Name, page.Apply.Count, page.Dead.Count + outcome.DeadLettered, page.Skipped, Stopwatch.GetElapsedTime(started));
                if (outcome.DeadLettered > 0 || page.Dead.Count > 0)
                {
                    ProjectionsLog.DeadLettered(logger, projection.Name, page.Dead.Count + outcome.DeadLettered);
                }

                if (ProjectionsTracing.Source.HasListeners())
                {
                    ProjectionsTracing.PageCommitted(projection.Name, page, startedAt);
                }

                CommitInformational(consumer, offsets);
                return;
            }

            // Zero rows updated: another owner (a rebalance we have not seen yet, or a rebuild swap)
            // moved these checkpoints. Drop our records for them and continue from what the database says.
            foreach (var partition in outcome.Fenced)
            {
                var current = await LoadCheckpointAsync(partition, cancellationToken);
                ProjectionsLog.Fenced(logger, projection.Name, partition.ToString(), _owned.GetValueOrDefault(partition), current);
                _owned[partition] = current;
                consumer.Seek(new TopicPartitionOffset(partition.Topic, partition.Partition, current is long c ? new Offset(c) : Offset.Beginning));
            }

            page = page.Without(outcome.Fenced);
        }
    }

    private void CommitInformational(IConsumer<string, byte[]> consumer, List<TopicPartitionOffset> offsets)
    {
        // The database checkpoint is authoritative; the group offset only helps operators' tools show lag.
        try
        {
            consumer.Commit(offsets);
        }
        catch (KafkaException ex)
        {
            ProjectionsLog.KafkaCommitFailed(logger, projection.Name, ex.Error.Reason);
        }
    }

    private List<TopicPartitionOffset> OnAssigned(List<TopicPartition> partitions, CancellationToken cancellationToken)
    {
        // Called inside Consume on the loop thread: blocking here is what the client expects
        // (the assignment is not effective until this returns).
        var saved = LoadCheckpointsBlocking(cancellationToken);
        var result = new List<TopicPartitionOffset>(partitions.Count);
        foreach (var tp in partitions)
        {
            var key = new PartitionKey(tp.Topic, tp.Partition.Value);
            long? next = saved.TryGetValue(key, out var n) ? n : null;
            _owned[key] = next;
            result.Add(new TopicPartitionOffset(tp, next is long o ? new Offset(o) : Offset.Beginning));
        }

        metrics.Owned(projection.Name, _owned.Count);
        ProjectionsLog.Assigned(logger, projection.Name, partitions.Count);
        return result;
    }

    private void OnRevoked(List<TopicPartitionOffset> partitions)
    {
        foreach (var tp in partitions)
        {
            _owned.Remove(new PartitionKey(tp.Topic, tp.Partition.Value));
        }

        metrics.Owned(projection.Name, _owned.Count);
        ProjectionsLog.Revoked(logger, projection.Name, partitions.Count);
    }

    private Dictionary<PartitionKey, long> LoadCheckpointsBlocking(CancellationToken cancellationToken)
    {
        var backoff = options.Value.RetryBackoffMs;
        while (true)
        {
            try
            {
                return checkpoints.LoadAsync(projection.Name, cancellationToken).GetAwaiter().GetResult();
            }
            catch (NpgsqlException ex) when (!cancellationToken.IsCancellationRequested)
            {
                ProjectionsLog.CheckpointLoadFailed(logger, ex, projection.Name, backoff);
                cancellationToken.WaitHandle.WaitOne(backoff);
                backoff = Math.Min(backoff * 2, options.Value.MaxRetryBackoffMs);
            }
        }
    }

    private async Task<long?> LoadCheckpointAsync(PartitionKey partition, CancellationToken cancellationToken)
    {
        var all = await checkpoints.LoadAsync(projection.Name, cancellationToken);
        return all.TryGetValue(partition, out var next) ? next : null;
    }
}
