using Messaging.Contracts.Topics;
using Messaging.Hosting.Postgres;
using Messaging.Projections.Runtime;
using Messaging.ReadModels.Schema;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using static Messaging.ReadModels.Sql;

namespace Messaging.Projections.DeadLetters;

internal sealed record DeadLetter(long Id, string Projection, string Topic, int Partition, long Offset, string? Type, string Error, byte[]? Payload, DateTime CreatedAt, DateTime? RetriedAt);

internal sealed record RetryResult(long Id, bool Applied, string? Error);

/// <summary>Lists parked records and re-applies them once the cause is fixed (a new build, a corrected row).</summary>
internal sealed class DeadLetterStore(NpgsqlDataSource dataSource, IEnumerable<IProjection> projections, TopicNames names, IOptions<PostgresOptions> postgres)
{
    public async Task<List<DeadLetter>> ListAsync(bool includeRetried, long? id, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            select id, projection, topic, "partition", "offset", type, error, payload, created_at, retried_at
            from dead_letters where ($1 or retried_at is null) and ($2::bigint is null or id = $2) order by id
            """);
        command.Parameters.Add(P(includeRetried || id is not null, NpgsqlDbType.Boolean));
        command.Parameters.Add(P(id, NpgsqlDbType.Bigint));
        var result = new List<DeadLetter>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            result.Add(new DeadLetter(
                reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetInt32(3), reader.GetInt64(4),
                reader.IsDBNull(5) ? null : reader.GetString(5), reader.GetString(6), reader.IsDBNull(7) ? null : (byte[])reader[7],
                reader.GetDateTime(8), reader.IsDBNull(9) ? null : reader.GetDateTime(9)));
        }

        return result;
    }

    /// <summary>
    /// Re-decodes and applies each letter to the live tables (idempotent statements, so a letter
    /// whose rows already exist is harmless), marking it retried on success and recording the
    /// new error otherwise. Checkpoints do not move: the partition went past it long ago.
    /// </summary>
    public async Task<List<RetryResult>> RetryAsync(long? id, CancellationToken cancellationToken)
    {
        var results = new List<RetryResult>();
        foreach (var letter in await ListAsync(includeRetried: false, id, cancellationToken))
        {
            if (letter.RetriedAt is not null)
            {
                continue;
            }

            results.Add(await RetryOneAsync(letter, cancellationToken));
        }

        return results;
    }

    private async Task<RetryResult> RetryOneAsync(DeadLetter letter, CancellationToken cancellationToken)
    {
        IProjection? projection = null;
        foreach (var p in projections)
        {
            if (p.Name == letter.Projection)
            {
                projection = p;
            }
        }

        if (projection is null)
        {
            return await MarkAsync(letter, false, $"unknown projection '{letter.Projection}'", cancellationToken);
        }

        var source = new SourceRecord(letter.Topic, letter.Partition, letter.Offset, null, letter.Payload);
        var decision = projection.Decode(source, names);
        if (decision.Disposition == Disposition.DeadLetter)
        {
            return await MarkAsync(letter, false, decision.Error ?? "undecodable", cancellationToken);
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        await using var batch = new NpgsqlBatch(connection, tx);
        batch.BatchCommands.Add(Command("select pg_advisory_xact_lock_shared($1)", P(AdvisoryLocks.Projection(postgres.Value.Schema, projection.Name), NpgsqlDbType.Bigint)));
        if (decision.Disposition == Disposition.Apply)
        {
            projection.AppendApply([new ApplyRecord(source, decision.Value!)], batch, TableSet.Live);
        }

        batch.BatchCommands.Add(Command("update dead_letters set retried_at = now() where id = $1", P(letter.Id, NpgsqlDbType.Bigint)));
        try
        {
            await batch.ExecuteNonQueryAsync(cancellationToken);
            await tx.CommitAsync(cancellationToken);
            return new RetryResult(letter.Id, true, null);
        }
        catch (PostgresException ex) when (FailureClassifier.Classify(ex.SqlState) == FailureKind.Record)
        {
            await tx.RollbackAsync(cancellationToken);
            return await MarkAsync(letter, false, $"apply failed: {ex.SqlState} {ex.MessageText}", cancellationToken);
        }
    }

    private async Task<RetryResult> MarkAsync(DeadLetter letter, bool applied, string error, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("update dead_letters set error = $2 where id = $1");
        command.Parameters.Add(P(letter.Id, NpgsqlDbType.Bigint));
        command.Parameters.Add(P(error, NpgsqlDbType.Text));
        await command.ExecuteNonQueryAsync(cancellationToken);
        return new RetryResult(letter.Id, applied, error);
    }
}
