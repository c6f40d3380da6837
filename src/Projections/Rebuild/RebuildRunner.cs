using Confluent.Kafka;
using Messaging.Contracts.Events;
using Messaging.Contracts.Topics;
using Messaging.Hosting.Kafka;
using Messaging.Hosting.Postgres;
using Messaging.Projections.Archive;
using Messaging.Projections.Retention;
using Messaging.Projections.Runtime;
using Messaging.ReadModels.Checkpoints;
using Messaging.ReadModels.Schema;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using static Messaging.ReadModels.Sql;

namespace Messaging.Projections.Rebuild;

internal enum RebuildResult
{
    Done,
    PlannedOnly,
    AlreadyRunning,
}

/// <summary>
/// Replays a projection's topics from the earliest offset into shadow tables while the live
/// projection keeps serving, then swaps them in atomically. Resumable (checkpoints
/// <c>rebuild:&lt;name&gt;</c>), exclusive (advisory lock), produces nothing to Kafka.
/// </summary>
internal sealed partial class RebuildRunner(
    NpgsqlDataSource dataSource,
    KafkaClientFactory clients,
    TopicNames names,
    CheckpointStore checkpoints,
    RetentionSweeper retention,
    ArchiveReader archive,
    IOptions<PostgresOptions> postgres,
    IOptions<RebuildOptions> options,
    ILogger<RebuildRunner> logger)
{
    private string Schema => postgres.Value.Schema;

    public static string CheckpointName(IProjection projection) => "rebuild:" + projection.Name;

    /// <param name="projection">The projection to rebuild.</param>
    /// <param name="dryRun">Print the plan only.</param>
    /// <param name="progress">Where the plan, phases and positions go.</param>
    /// <param name="cancellationToken">Stops after the page in flight; the same command resumes.</param>
    /// <param name="fromArchive">
    /// Read <c>chat.events</c> from the archive up to its manifests' ends, then from Kafka: the
    /// rebuild reaches back past the topic's retention (docs/operations.md, "Archive").
    /// </param>
    public async Task<RebuildResult> RunAsync(IProjection projection, bool dryRun, IRebuildProgress progress, CancellationToken cancellationToken, bool fromArchive = false)
    {
        // Held for the whole run on its own connection: a second rebuild of the same projection refuses to start.
        await using var guard = await dataSource.OpenConnectionAsync(cancellationToken);
        if (!await TryLockAsync(guard, AdvisoryLocks.Rebuild(Schema, projection.Name), cancellationToken))
        {
            return RebuildResult.AlreadyRunning;
        }

        var shadow = new ShadowTables(Schema, options.Value.MaintenanceWorkMemMb);
        var resuming = await ShadowTables.ExistsAsync(guard, projection, cancellationToken);
        var saved = resuming ? await checkpoints.LoadAsync(CheckpointName(projection), cancellationToken) : [];
        var archived = fromArchive && projection.Topics(names).Contains(names.ChatEvents)
            ? await archive.ManifestsAsync(cancellationToken)
            : null;
        var watermarks = Watermarks(projection);
        var plan = RebuildPlan.Create(archived is null ? watermarks : ArchiveReader.Extend(watermarks, names.ChatEvents, archived), saved);
        progress.Planned(projection.Name, plan);
        if (dryRun)
        {
            return RebuildResult.PlannedOnly;
        }

        if (!resuming)
        {
            await DeleteCheckpointsAsync(guard, null, CheckpointName(projection), cancellationToken);
            await shadow.CreateAsync(guard, projection, cancellationToken);
        }

        var positions = new Dictionary<PartitionKey, long?>();
        foreach (var (key, value) in saved)
        {
            positions[key] = value;
        }

        var applier = new PageApplier(dataSource, projection, Schema);
        if (!await shadow.IsFinalizedAsync(guard, projection, cancellationToken))
        {
            await ShadowTables.PrepareBulkAsync(guard, projection, cancellationToken);
            progress.Phase(archived is null ? "replaying into shadow tables (bulk)" : "replaying the archive into shadow tables (bulk)");
            var targets = new Dictionary<PartitionKey, long>();
            foreach (var p in plan.Partitions)
            {
                targets[p.Partition] = p.End;
            }

            if (archived is not null)
            {
                await ReplayArchiveAsync(projection, applier, positions, targets, archived, progress, cancellationToken);
                progress.Phase("replaying Kafka after the archive into shadow tables (bulk)");
            }

            await ReplayAsync(projection, applier, positions, targets, ApplyMode.Bulk, progress, cancellationToken);
            progress.Phase("deduplicating and building indexes");
            await shadow.FinalizeAsync(guard, projection, retention.Cutoffs(), cancellationToken);
        }

        // Catch up with the live projection without blocking it, so that the gap replayed under
        // the exclusive lock below is small.
        progress.Phase("catching up with the live projection");
        await ReplayAsync(projection, applier, positions, await LiveTargetsAsync(projection, positions, cancellationToken), ApplyMode.Upsert, progress, cancellationToken);

        progress.Phase("swapping tables");
        await SwapAsync(projection, shadow, applier, positions, progress, cancellationToken);
        progress.Phase("done");
        return RebuildResult.Done;
    }

    /// <summary>
    /// Rebuilds one chat's rows: reads that chat's events from every partition (the partitioner
    /// of the producer is not assumed), then deletes and re-applies them in one transaction under
    /// the exclusive projection lock. With <paramref name="fromArchive"/>, the archive is read up
    /// to its manifests' ends first, then Kafka from there (as <see cref="RunAsync"/>).
    /// </summary>
    public async Task<int> RebuildChatAsync(IProjection projection, string chatId, bool dryRun, IRebuildProgress progress, CancellationToken cancellationToken, bool fromArchive = false)
    {
        if (projection.DeleteChatSql is null)
        {
            throw new InvalidOperationException($"Projection '{projection.Name}' has no per-chat rows; --chat applies to chat.");
        }

        var partitions = Watermarks([names.ChatEvents]);
        var archived = fromArchive ? await archive.ManifestsAsync(cancellationToken) : null;
        var plan = RebuildPlan.Create(archived is null ? partitions : ArchiveReader.Extend(partitions, names.ChatEvents, archived), new Dictionary<PartitionKey, long>());
        progress.Planned(projection.Name, plan);
        if (dryRun)
        {
            return 0;
        }

        var events = new List<ApplyRecord>();
        var from = new Dictionary<PartitionKey, long?>();
        var to = new Dictionary<PartitionKey, long>();
        foreach (var p in plan.Partitions)
        {
            to[p.Partition] = p.End;
        }

        if (archived is not null)
        {
            progress.Phase($"reading the events of chat {chatId} from the archive");
            await ReadChatFromArchiveAsync(projection, chatId, archived, from, to, events, progress, cancellationToken);
        }

        progress.Phase($"reading the events of chat {chatId}");
        await ConsumeAsync(projection, from, to, options.Value.PageSize, bulk: false, writers: 1, (page, _) =>
        {
            foreach (var r in page.Apply)
            {
                if (r.Value is ChatEvent e && e.ChatId == chatId)
                {
                    events.Add(r);
                }
            }

            return Task.CompletedTask;
        }, progress, cancellationToken);

        progress.Phase($"replacing {events.Count} events of chat {chatId}");
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        await using var batch = new NpgsqlBatch(connection, tx);
        batch.BatchCommands.Add(Command("select pg_advisory_xact_lock($1)", P(AdvisoryLocks.Projection(Schema, projection.Name), NpgsqlDbType.Bigint)));
        foreach (var sql in projection.DeleteChatSql)
        {
            var delete = new NpgsqlBatchCommand(sql);
            delete.Parameters.AddWithValue("chat", chatId);
            batch.BatchCommands.Add(delete);
        }

        projection.AppendApply(events, batch, TableSet.Live);
        await batch.ExecuteNonQueryAsync(cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return events.Count;
    }

    private async Task SwapAsync(IProjection projection, ShadowTables shadow, PageApplier applier, Dictionary<PartitionKey, long?> positions, IRebuildProgress progress, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        await using (var setup = new NpgsqlBatch(connection, tx))
        {
            setup.BatchCommands.Add(Command($"set local lock_timeout = {options.Value.SwapLockTimeoutMs}"));
            // Exclusive: waits for the live page in flight, then holds every live runner of this
            // projection at the start of its next page until the swap commits.
            setup.BatchCommands.Add(Command("select pg_advisory_xact_lock($1)", P(AdvisoryLocks.Projection(Schema, projection.Name), NpgsqlDbType.Bigint)));
            await setup.ExecuteNonQueryAsync(cancellationToken);
        }

        // The live projection cannot move now: replay exactly up to where it stands.
        await ReplayAsync(projection, applier, positions, await LiveTargetsAsync(projection, positions, cancellationToken), ApplyMode.Upsert, progress, cancellationToken);

        await shadow.SwapAsync(connection, tx, projection, cancellationToken);
        await using (var handover = new NpgsqlBatch(connection, tx))
        {
            // The live runners continue from the rebuild's positions (equal to theirs, or ahead of
            // a lagging runner, which then finds its checkpoint moved and re-reads it).
            foreach (var (partition, position) in positions)
            {
                if (position is long p)
                {
                    handover.BatchCommands.Add(CheckpointStore.Set(projection.Name, partition, p));
                }
            }

            handover.BatchCommands.Add(Command("delete from checkpoints where projection = $1", P(CheckpointName(projection), NpgsqlDbType.Text)));
            await handover.ExecuteNonQueryAsync(cancellationToken);
        }

        await tx.CommitAsync(cancellationToken);
        ProjectionsLog.RebuildPhase(logger, projection.Name, "swapped");
    }

    /// <summary>Per partition: the live checkpoint when it is ahead of the rebuild, else where the rebuild stands.</summary>
    private async Task<Dictionary<PartitionKey, long>> LiveTargetsAsync(IProjection projection, Dictionary<PartitionKey, long?> positions, CancellationToken cancellationToken)
    {
        var live = await checkpoints.LoadAsync(projection.Name, cancellationToken);
        var targets = new Dictionary<PartitionKey, long>();
        foreach (var (partition, next) in live)
        {
            var own = positions.TryGetValue(partition, out var p) && p is long v ? v : 0;
            targets[partition] = Math.Max(next, own);
        }

        return targets;
    }

    /// <summary>
    /// The bulk replay's first part when rebuilding from the archive: per partition of
    /// <c>chat.events</c>, the archived records from the rebuild's position up to the manifest's
    /// end (or the target), through the same decoder and pages as records from Kafka; the
    /// positions then stand where Kafka takes over.
    /// </summary>
    private async Task ReplayArchiveAsync(
        IProjection projection,
        PageApplier applier,
        Dictionary<PartitionKey, long?> positions,
        Dictionary<PartitionKey, long> targets,
        IReadOnlyDictionary<int, ArchiveManifest> archived,
        IRebuildProgress progress,
        CancellationToken cancellationToken)
    {
        // The same stages as from Kafka (ConsumeAsync): pages decoded on the thread pool, up to
        // DecodeAhead ahead of the page being written, written in log order per partition; the
        // reader fetches the next file meanwhile. Decoding inline ran at 13k events/s against 21k
        // from Kafka (100k events).
        var ranges = new List<(ArchiveManifest, long?, long)>();
        var sizes = new List<(PartitionKey, long)>();
        foreach (var (partition, manifest) in archived)
        {
            var key = new PartitionKey(names.ChatEvents, partition);
            if (targets.TryGetValue(key, out var target) && manifest.NextOffset is long end)
            {
                var from = positions.TryGetValue(key, out var p) ? p : null;
                ranges.Add((manifest, from, Math.Min(target, end)));
                sizes.Add((key, Math.Min(target, end) - (from ?? 0)));
            }
        }

        await using var writers = new PageWriters(sizes, options.Value.Writers, options.Value.DecodeAhead, (page, ct) => FlushAsync(projection, applier, positions, page, ApplyMode.Bulk, progress, ct), cancellationToken);
        await foreach (var records in archive.ReadAsync(ranges, options.Value.PageSize, options.Value.DecodeAhead, cancellationToken))
        {
            // An archive page is one file's records: one partition.
            await writers.EnqueueAsync(writers.WriterOf(new PartitionKey(records[0].Topic, records[0].Partition)), () => Page.Plan(projection, records, names, bulk: true));
        }

        await writers.CompleteAsync();
    }

    private static async Task FlushAsync(IProjection projection, PageApplier applier, Dictionary<PartitionKey, long?> positions, Page page, ApplyMode mode, IRebuildProgress progress, CancellationToken cancellationToken)
    {
        // Several writers flush pages of disjoint partitions at once (PageWriters): each reads and
        // moves only its own partitions' positions, but in one shared dictionary, hence the lock.
        var expected = new Dictionary<PartitionKey, long?>(page.NextOffsets.Count);
        lock (positions)
        {
            foreach (var partition in page.NextOffsets.Keys)
            {
                expected[partition] = positions.TryGetValue(partition, out var p) ? p : null;
            }
        }

        var outcome = await applier.ApplyAsync(page, expected, TableSet.Shadow, CheckpointName(projection), takeLock: false, cancellationToken, mode);
        if (!outcome.Committed)
        {
            throw new InvalidOperationException($"Rebuild checkpoints of {projection.Name} were moved by another writer ({string.Join(", ", outcome.Fenced)}): is a second rebuild running without the lock?");
        }

        lock (positions)
        {
            foreach (var (partition, next) in page.NextOffsets)
            {
                positions[partition] = next;
                progress.Advanced(partition, next);
            }
        }
    }

    private Task ReplayAsync(
        IProjection projection,
        PageApplier applier,
        Dictionary<PartitionKey, long?> positions,
        Dictionary<PartitionKey, long> targets,
        ApplyMode mode,
        IRebuildProgress progress,
        CancellationToken cancellationToken) =>
        // Catch-up and swap upsert into indexed tables, a few pages each: one writer, so that two
        // transactions never take row locks of one chat in opposite orders.
        ConsumeAsync(projection, positions, targets, options.Value.PageSize, mode == ApplyMode.Bulk, mode == ApplyMode.Bulk ? options.Value.Writers : 1, (page, ct) => FlushAsync(projection, applier, positions, page, mode, progress, ct), progress, cancellationToken);

    /// <summary>
    /// Reads each partition from its position up to (excluding) its target offset, in pages of
    /// one writer's partitions (<see cref="PageWriters.Assign"/>), flushed by up to
    /// <paramref name="writers"/> at once. Assigned directly (no group): a rebuild must not take
    /// partitions from the live runners.
    /// </summary>
    private async Task ConsumeAsync(
        IProjection projection,
        Dictionary<PartitionKey, long?> from,
        Dictionary<PartitionKey, long> to,
        int pageSize,
        bool bulk,
        int writers,
        Func<Page, CancellationToken, Task> flush,
        IRebuildProgress progress,
        CancellationToken cancellationToken)
    {
        var pending = new HashSet<PartitionKey>();
        var assignment = new List<TopicPartitionOffset>();
        var sizes = new List<(PartitionKey, long)>();
        foreach (var (partition, target) in to)
        {
            var start = from.TryGetValue(partition, out var f) && f is long s ? s : (long?)null;
            if (start is long st && st >= target)
            {
                continue;
            }

            pending.Add(partition);
            assignment.Add(new TopicPartitionOffset(partition.Topic, partition.Partition, start is long o ? new Offset(o) : Offset.Beginning));
            // From the beginning: an upper bound (the earliest offset is not known here), as in the plan.
            sizes.Add((partition, target - (start ?? 0)));
        }

        if (pending.Count == 0)
        {
            return;
        }

        var config = clients.ConsumerConfig($"{names.Prefix}projections.rebuild.{projection.Name}", $"projections-rebuild-{projection.Name}");
        // End-of-partition events tell when a compacted partition (offset gaps) has nothing more below the target.
        config.EnablePartitionEof = true;
        var topic = OnlyTopic(to);
        if (topic is not null)
        {
            // Every projection reads one topic, so the records' topic is known: Consume need not
            // marshal it (a string per record), nor headers or timestamps, which nothing here reads.
            config.ConsumeResultFields = "none";
        }
        using var consumer = new ConsumerBuilder<string, byte[]>(config).Build();
        consumer.Assign(assignment);
        // Three stages: this thread only fetches and sorts the records into one page per writer;
        // pages are decoded on the thread pool and written by their writer, in log order per
        // partition (PageWriters). Decoding on the fetch thread made that thread the bottleneck:
        // in a sampled trace of a 500k-event chat rebuild, fetch + decode were 7.3 % of samples
        // against 2.7 % for the COPY (docs/operations.md, "Measured").
        await using var writing = new PageWriters(sizes, writers, options.Value.DecodeAhead, flush, cancellationToken);
        var records = new List<SourceRecord>[writing.Count];
        for (var w = 0; w < records.Length; w++)
        {
            records[w] = new List<SourceRecord>(pageSize);
        }

        try
        {
            while (pending.Count > 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var result = consumer.Consume(TimeSpan.FromMilliseconds(200));
                var full = -1;
                if (result is not null)
                {
                    var key = new PartitionKey(topic ?? result.Topic, result.Partition.Value);
                    var target = to[key];
                    if (result.IsPartitionEOF)
                    {
                        if (result.Offset.Value >= target)
                        {
                            Complete(consumer, pending, key);
                        }
                    }
                    else if (result.Offset.Value < target && pending.Contains(key))
                    {
                        var w = writing.WriterOf(key);
                        records[w].Add(new SourceRecord(key.Topic, key.Partition, result.Offset.Value, result.Message.Key, result.Message.Value));
                        full = records[w].Count >= pageSize ? w : -1;
                        if (result.Offset.Value + 1 >= target)
                        {
                            Complete(consumer, pending, key);
                        }
                    }
                    else
                    {
                        Complete(consumer, pending, key);
                    }
                }

                // A full page goes at once; partial pages when the fetch ran dry or is done.
                for (var w = 0; w < records.Length; w++)
                {
                    if (w == full || (records[w].Count > 0 && (result is null || pending.Count == 0)))
                    {
                        var batch = records[w];
                        records[w] = new List<SourceRecord>(pageSize);
                        await writing.EnqueueAsync(w, () => Page.Plan(projection, batch, names, bulk));
                    }
                }
            }

            await writing.CompleteAsync();
        }
        finally
        {
            consumer.Close();
        }

        static void Complete(IConsumer<string, byte[]> consumer, HashSet<PartitionKey> pending, PartitionKey key)
        {
            if (pending.Remove(key))
            {
                consumer.Pause([new TopicPartition(key.Topic, key.Partition)]);
            }
        }
    }

    /// <summary>The one topic all <paramref name="partitions"/> belong to, or null when they span several.</summary>
    private static string? OnlyTopic(Dictionary<PartitionKey, long> partitions)
    {
        string? topic = null;
        foreach (var key in partitions.Keys)
        {
            if (topic is not null && !string.Equals(topic, key.Topic, StringComparison.Ordinal))
            {
                return null;
            }

            topic = key.Topic;
        }

        return topic;
    }

    private List<(PartitionKey, long, long)> Watermarks(IProjection projection) => Watermarks(projection.Topics(names));

    private List<(PartitionKey, long, long)> Watermarks(IReadOnlyList<string> topics)
    {
        using var admin = new AdminClientBuilder(clients.AdminConfig("projections-rebuild-plan")).Build();
        using var consumer = new ConsumerBuilder<string, byte[]>(clients.ConsumerConfig($"{names.Prefix}projections.rebuild-plan", "projections-rebuild-plan")).Build();
        var result = new List<(PartitionKey, long, long)>();
        foreach (var topic in topics)
        {
            var metadata = admin.GetMetadata(topic, TimeSpan.FromSeconds(10));
            foreach (var t in metadata.Topics)
            {
                foreach (var p in t.Partitions)
                {
                    var w = consumer.QueryWatermarkOffsets(new TopicPartition(topic, p.PartitionId), TimeSpan.FromSeconds(10));
                    result.Add((new PartitionKey(topic, p.PartitionId), w.Low.Value, w.High.Value));
                }
            }
        }

        return result;
    }

    private static async Task<bool> TryLockAsync(NpgsqlConnection connection, long key, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("select pg_try_advisory_lock($1)", connection);
        command.Parameters.Add(P(key, NpgsqlDbType.Bigint));
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    private static async Task DeleteCheckpointsAsync(NpgsqlConnection connection, NpgsqlTransaction? tx, string name, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("delete from checkpoints where projection = $1", connection, tx);
        command.Parameters.Add(P(name, NpgsqlDbType.Text));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
