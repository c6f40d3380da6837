using Messaging.ReadModels.Checkpoints;
using Messaging.ReadModels.Schema;
using Npgsql;
using NpgsqlTypes;
using static Messaging.ReadModels.Sql;

namespace Messaging.Projections.Runtime;

/// <summary>How records reach the tables: idempotent upserts (live, catch-up) or a rebuild's bulk load.</summary>
internal enum ApplyMode
{
    Upsert,
    Bulk,
}

/// <summary>The result of applying a page: committed, or refused for partitions someone else moved.</summary>
internal sealed record ApplyOutcome(bool Committed, IReadOnlySet<PartitionKey> Fenced, int DeadLettered)
{
    public static ApplyOutcome Done(int dead) => new(true, new HashSet<PartitionKey>(), dead);
}

/// <summary>
/// Applies a page in ONE transaction: the rows, the dead letters and the guarded checkpoint
/// updates, so a crash never double-applies or skips. When a statement fails because of a
/// record's data, the page is re-run record by record under savepoints to isolate the bad one.
/// </summary>
internal sealed class PageApplier(NpgsqlDataSource dataSource, IProjection projection, string schema)
{
    private const string DeadLetterSql = """
        insert into dead_letters (projection, topic, "partition", "offset", type, error, payload)
        values ($1, $2, $3, $4, $5, $6, $7)
        on conflict (projection, topic, "partition", "offset") do nothing
        """;

    private readonly long _lockKey = AdvisoryLocks.Projection(schema, projection.Name);

    public IProjection Projection => projection;

    /// <param name="page">The page.</param>
    /// <param name="expected">Per partition of the page, the checkpoint this owner last saw (null: no row yet).</param>
    /// <param name="tables">Live tables, or a rebuild's shadow tables during its catch-up.</param>
    /// <param name="checkpointName">Whose checkpoints advance: the projection's, or <c>rebuild:&lt;name&gt;</c>.</param>
    /// <param name="takeLock">Live writes hold the projection lock shared, so a rebuild swap happens between two pages.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    /// <param name="mode">Upserts, or a rebuild's bulk load into unindexed shadow tables.</param>
    public async Task<ApplyOutcome> ApplyAsync(
        Page page,
        IReadOnlyDictionary<PartitionKey, long?> expected,
        TableSet tables,
        string checkpointName,
        bool takeLock,
        CancellationToken cancellationToken,
        ApplyMode mode = ApplyMode.Upsert)
    {
        try
        {
            return await ApplyOnceAsync(page, page.Apply, expected, tables, checkpointName, takeLock, isolate: false, mode, cancellationToken);
        }
        catch (PostgresException ex) when (FailureClassifier.Classify(ex.SqlState) == FailureKind.Record)
        {
            return await ApplyOnceAsync(page, page.Apply, expected, tables, checkpointName, takeLock, isolate: true, mode, cancellationToken);
        }
    }

    private async Task<ApplyOutcome> ApplyOnceAsync(
        Page page,
        List<ApplyRecord> records,
        IReadOnlyDictionary<PartitionKey, long?> expected,
        TableSet tables,
        string checkpointName,
        bool takeLock,
        bool isolate,
        ApplyMode mode,
        CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        await using var batch = new NpgsqlBatch(connection, tx);
        if (takeLock)
        {
            batch.BatchCommands.Add(Command("select pg_advisory_xact_lock_shared($1)", P(_lockKey, NpgsqlDbType.Bigint)));
        }

        var dead = new List<DeadRecord>(page.Dead);
        if (isolate)
        {
            if (takeLock)
            {
                await batch.ExecuteNonQueryAsync(cancellationToken);
                batch.BatchCommands.Clear();
            }

            var single = new List<ApplyRecord>(1) { default };
            for (var i = 0; i < records.Count; i++)
            {
                single[0] = records[i];
                await using var one = new NpgsqlBatch(connection, tx);
                if (mode == ApplyMode.Upsert)
                {
                    projection.AppendApply(single, one, tables);
                    if (one.BatchCommands.Count == 0)
                    {
                        continue;
                    }
                }

                await tx.SaveAsync("r", cancellationToken);
                try
                {
                    if (mode == ApplyMode.Upsert)
                    {
                        await one.ExecuteNonQueryAsync(cancellationToken);
                    }
                    else
                    {
                        await projection.BulkLoadAsync(single, connection, tx, cancellationToken);
                    }

                    await tx.ReleaseAsync("r", cancellationToken);
                }
                catch (PostgresException ex) when (FailureClassifier.Classify(ex.SqlState) == FailureKind.Record)
                {
                    await tx.RollbackAsync("r", cancellationToken);
                    dead.Add(new DeadRecord(records[i].Source, records[i].Value is IRecordTypeName named ? named.RecordType : records[i].Value.GetType().Name, $"apply failed: {ex.SqlState} {ex.MessageText}"));
                }
            }
        }
        else if (mode == ApplyMode.Upsert)
        {
            projection.AppendApply(records, batch, tables);
        }
        else
        {
            await projection.BulkLoadAsync(records, connection, tx, cancellationToken);
        }

        foreach (var d in dead)
        {
            batch.BatchCommands.Add(Command(DeadLetterSql,
                P(projection.Name, NpgsqlDbType.Text), P(d.Source.Topic, NpgsqlDbType.Text), P(d.Source.Partition, NpgsqlDbType.Integer),
                P(d.Source.Offset, NpgsqlDbType.Bigint), P(d.Type, NpgsqlDbType.Text), P(d.Error, NpgsqlDbType.Text), P(d.Source.Value, NpgsqlDbType.Bytea)));
        }

        if (mode == ApplyMode.Bulk)
        {
            // A rebuild's bulk page lands in shadow tables together with its own checkpoints: a
            // commit lost in a crash loses both, and the rebuild resumes before that page, so it
            // need not wait for the WAL flush. The finalize and swap commit durably.
            batch.BatchCommands.Add(Command("set local synchronous_commit = off"));
        }

        var checkpointCommands = new List<(PartitionKey, NpgsqlBatchCommand)>(page.NextOffsets.Count);
        foreach (var (partition, next) in page.NextOffsets)
        {
            var command = CheckpointStore.Advance(checkpointName, partition, expected.TryGetValue(partition, out var e) ? e : null, next);
            checkpointCommands.Add((partition, command));
            batch.BatchCommands.Add(command);
        }

        if (batch.BatchCommands.Count > 0)
        {
            await batch.ExecuteNonQueryAsync(cancellationToken);
        }

        HashSet<PartitionKey>? fenced = null;
        foreach (var (partition, command) in checkpointCommands)
        {
            if (command.RecordsAffected == 0)
            {
                (fenced ??= []).Add(partition);
            }
        }

        if (fenced is not null)
        {
            // Someone else moved these checkpoints since we read them: nothing of this page may land.
            await tx.RollbackAsync(cancellationToken);
            return new ApplyOutcome(false, fenced, 0);
        }

        await tx.CommitAsync(cancellationToken);
        return ApplyOutcome.Done(dead.Count);
    }
}
