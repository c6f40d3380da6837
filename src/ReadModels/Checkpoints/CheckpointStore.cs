using Npgsql;
using NpgsqlTypes;
using static Messaging.ReadModels.Sql;

namespace Messaging.ReadModels.Checkpoints;

/// <summary>A partition of a topic, as the checkpoint table keys it.</summary>
public readonly record struct PartitionKey(string Topic, int Partition)
{
    public override string ToString() => $"{Topic}[{Partition}]";
}

/// <summary>
/// The <c>checkpoints</c> table: per projection and partition, the next offset to apply. It is the
/// only position that counts: Kafka's committed group offsets are informational.
/// </summary>
public sealed class CheckpointStore(NpgsqlDataSource dataSource)
{
    private const string InsertSql = """
        insert into checkpoints (projection, topic, "partition", next_offset) values ($1, $2, $3, $4)
        on conflict do nothing
        """;

    private const string AdvanceSql = """
        update checkpoints set next_offset = $4, updated_at = now()
        where projection = $1 and topic = $2 and "partition" = $3 and next_offset = $5
        """;

    /// <summary>
    /// Per partition of <c>$2</c>, the position every projection in <c>$1</c> has reached: the
    /// lowest of their next offsets, 0 while one of them has no row there.
    /// </summary>
    private const string AppliedSql = """
        select "partition", case when count(*) = cardinality($1) then min(next_offset) else 0 end
        from checkpoints where projection = any($1) and topic = $2
        group by "partition"
        """;

    private const string LoadSql = """select topic, "partition", next_offset from checkpoints where projection = $1""";

    public async Task<Dictionary<PartitionKey, long>> LoadAsync(string projection, CancellationToken cancellationToken)
    {
        var result = new Dictionary<PartitionKey, long>();
        await using var command = dataSource.CreateCommand(LoadSql);
        command.Parameters.Add(P(projection, NpgsqlDbType.Text));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            result[new PartitionKey(reader.GetString(0), reader.GetInt32(1))] = reader.GetInt64(2);
        }

        return result;
    }

    /// <summary>Per partition of <paramref name="topic"/>, the next offset all of <paramref name="projections"/> have reached (a partition none has a row for is absent).</summary>
    public async Task<Dictionary<int, long>> AppliedAsync(string[] projections, string topic, CancellationToken cancellationToken)
    {
        var applied = new Dictionary<int, long>();
        await using var command = dataSource.CreateCommand(AppliedSql);
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = projections });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = topic });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            applied[reader.GetInt32(0)] = reader.GetInt64(1);
        }

        return applied;
    }

    /// <summary>
    /// Moves a checkpoint from <paramref name="expected"/> (null: no row yet) to <paramref name="next"/>.
    /// Affects zero rows when someone else moved it: the caller must roll back and not write.
    /// </summary>
    public static NpgsqlBatchCommand Advance(string projection, PartitionKey partition, long? expected, long next) => expected is long e
        ? Command(AdvanceSql, P(projection, NpgsqlDbType.Text), P(partition.Topic, NpgsqlDbType.Text), P(partition.Partition, NpgsqlDbType.Integer), P(next, NpgsqlDbType.Bigint), P(e, NpgsqlDbType.Bigint))
        : Command(InsertSql, P(projection, NpgsqlDbType.Text), P(partition.Topic, NpgsqlDbType.Text), P(partition.Partition, NpgsqlDbType.Integer), P(next, NpgsqlDbType.Bigint));

    /// <summary>Sets a checkpoint unconditionally (the rebuild swap hands positions over under the exclusive projection lock).</summary>
    public static NpgsqlBatchCommand Set(string projection, PartitionKey partition, long next) => Command("""
        insert into checkpoints (projection, topic, "partition", next_offset) values ($1, $2, $3, $4)
        on conflict (projection, topic, "partition") do update set next_offset = excluded.next_offset, updated_at = now()
        """, P(projection, NpgsqlDbType.Text), P(partition.Topic, NpgsqlDbType.Text), P(partition.Partition, NpgsqlDbType.Integer), P(next, NpgsqlDbType.Bigint));
}
