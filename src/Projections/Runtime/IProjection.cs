using Messaging.Contracts.Topics;
using Npgsql;

namespace Messaging.Projections.Runtime;

/// <summary>Which physical tables a write goes to: the live read model or a rebuild's shadow copy.</summary>
internal enum TableSet
{
    Live,
    Shadow,
}

/// <summary>
/// One read model: which topics feed it, which tables it owns, how a page of decoded records
/// becomes SQL. Implementations are stateless; every statement is idempotent on the event's
/// identity, so a page applied twice (retry, crash, rebuild --chat) leaves the same rows.
/// </summary>
internal interface IProjection
{
    /// <summary><c>inbox</c> (cursors), <c>chat</c> or <c>presence</c>: consumer group, checkpoint rows, CLI argument.</summary>
    string Name { get; }

    IReadOnlyList<string> Topics(TopicNames names);

    /// <summary>The live tables this projection owns (a rebuild swaps exactly these).</summary>
    IReadOnlyList<ShadowTable> Tables { get; }

    Decision Decode(in SourceRecord record, TopicNames names);

    /// <summary>
    /// Decoding for a rebuild's bulk phase, whose values only <see cref="BulkLoadAsync"/> sees:
    /// a projection may decode straight into its bulk rows here. The verdict (apply, skip, park)
    /// must be <see cref="Decode"/>'s.
    /// </summary>
    Decision DecodeBulk(in SourceRecord record, TopicNames names) => Decode(record, names);

    /// <summary>Appends the statements applying <paramref name="records"/> (in log order) to <paramref name="batch"/>.</summary>
    void AppendApply(IReadOnlyList<ApplyRecord> records, NpgsqlBatch batch, TableSet tables);

    /// <summary>
    /// Rebuild's bulk phase: writes into unindexed shadow tables (binary COPY where it pays) and
    /// keyed shadow tables (upserts). Runs inside the caller's transaction.
    /// </summary>
    Task BulkLoadAsync(IReadOnlyList<ApplyRecord> records, NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken);

    /// <summary>
    /// Statements that turn bulk-loaded shadow tables into what the live path would have produced,
    /// run after the shadow tables got their indexes (deduplicated, analysed), in the same transaction.
    /// </summary>
    IReadOnlyList<string> FinalizeSql(RetentionCutoffs cutoffs);

    /// <summary>Statements deleting one chat's rows (rebuild --chat); null when the projection has no per-chat rows.</summary>
    IReadOnlyList<string>? DeleteChatSql { get; }
}

/// <summary>A table a projection owns; bulk tables are loaded unindexed and deduplicated on their key before the indexes are built.</summary>
internal sealed record ShadowTable(string Name, bool Bulk, string? Key)
{
    public const string Suffix = "__rebuild";

    /// <summary>
    /// A bulk shadow table's extra column while it is loaded: each row's offset in its partition,
    /// so that the dedupe keeps the first copy in log order. Physical order (<c>ctid</c>) is not
    /// log order once two writers COPY at once: PostgreSQL hands free space found by one backend's
    /// extension to the other (a fresh-clone CI run kept the later of two differing copies). The
    /// finalize step drops it.
    /// </summary>
    public const string LogOffsetColumn = "rebuild_log_offset";

    public string ShadowName => Name + Suffix;
}

/// <summary>Rows older than these are not kept (retention), so a rebuild does not resurrect what retention removed.</summary>
internal readonly record struct RetentionCutoffs(DateTime History);
