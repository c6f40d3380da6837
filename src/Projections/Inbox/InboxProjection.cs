using Messaging.Contracts.Devices;
using Messaging.Contracts.Serialization;
using Messaging.Contracts.Topics;
using Messaging.Projections.Runtime;
using Npgsql;
using NpgsqlTypes;

namespace Messaging.Projections.Inbox;

/// <summary>
/// <c>inbox</c>: one row per recipient device (user, device id) of every chat event, deleted by
/// that device's ack; <c>ack_watermarks</c>: the highest seq each device acked per chat, which
/// later inserts respect (the live path delivers and acks before this projection writes the row).
/// </summary>
internal sealed class InboxProjection : IProjection
{
    private static readonly ShadowTable[] OwnedTables =
    [
        new("inbox", Bulk: true, Key: "user_id, device_id, chat_id, seq"),
        new("ack_watermarks", Bulk: false, Key: null),
    ];

    /// <summary>The inbox's ack/insert lock (see AppendApply); the key is derived in SQL from the schema the tables resolve to, like every advisory key here includes the schema.</summary>
    private const string LockAcksSharedSql = "select pg_advisory_xact_lock_shared(hashtextextended('inbox-acks/' || current_schema(), 0))";

    private const string LockAcksExclusiveSql = "select pg_advisory_xact_lock(hashtextextended('inbox-acks/' || current_schema(), 0))";

    private readonly Sql _live = new("");
    private readonly Sql _shadow = new(ShadowTable.Suffix);

    public string Name => "inbox";

    public IReadOnlyList<ShadowTable> Tables => OwnedTables;

    public IReadOnlyList<string>? DeleteChatSql { get; } = ["delete from inbox where chat_id = @chat"];

    public IReadOnlyList<string> Topics(TopicNames names) => [names.ChatEvents, names.DeviceAcks];

    public Decision Decode(in SourceRecord record, TopicNames names)
    {
        if (record.Value is null)
        {
            return Decision.Skip(null);
        }

        if (record.Topic == names.ChatEvents)
        {
            return Decision.From(Codecs.Events.Decode(record.Value));
        }

        var decision = Decision.From(Codecs.Devices.Decode(record.Value));
        // device.acks carries only acks today; another device record there is not ours to apply.
        return decision.Disposition == Disposition.Apply && decision.Value is not DeliveryAcked ? Decision.Skip(decision.Type) : decision;
    }

    public void AppendApply(IReadOnlyList<ApplyRecord> records, NpgsqlBatch batch, TableSet tables)
    {
        var sql = tables == TableSet.Live ? _live : _shadow;
        var page = InboxPage.Plan(records);
        if (tables == TableSet.Live && (page.RowCount > 0 || page.AckCount > 0))
        {
            // Acks and events are on different partitions, so two runners (processes) may apply
            // them at the same moment: under READ COMMITTED an insert whose snapshot predates an
            // uncommitted ack, and that ack's delete whose snapshot predates the insert, would
            // leave a row at or below the watermark. Pages inserting rows take this lock shared
            // (they run side by side), pages with acks exclusive, before any statement reads:
            // either the ack commits first and the insert's later snapshot sees its watermark, or
            // the insert commits first and the ack's delete sees the row. It replaces a FOR SHARE
            // lock on one watermark row per inserted row, which wrote a WAL record per row
            // (3,000 per 1,000-event page) and made every page create a zero watermark row per
            // (device, chat) first (docs/operations.md, "Measured"). A shadow table has one
            // writer (the rebuild, both topics in one loop): nothing to order.
            batch.BatchCommands.Add(Command(page.AckCount > 0 ? LockAcksExclusiveSql : LockAcksSharedSql));
        }

        if (page.RowCount > 0)
        {
            batch.BatchCommands.Add(Command(sql.InsertRows, page.RowUsers, page.RowDevices, page.RowChats, page.RowSeqs, page.RowCreatedAt));
        }

        if (page.AckCount > 0)
        {
            batch.BatchCommands.Add(Command(sql.UpsertWatermarks, page.AckUsers, page.AckDevices, page.AckChats, page.AckSeqs));
            batch.BatchCommands.Add(Command(sql.DeleteAcked, page.AckUsers, page.AckDevices, page.AckChats, page.AckSeqs));
        }
    }

    public async Task BulkLoadAsync(IReadOnlyList<ApplyRecord> records, NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        var page = InboxPage.Plan(records);
        if (page.RowCount > 0)
        {
            // Binary COPY into the unindexed shadow table: duplicates and acked rows are removed
            // once at the end (FinalizeSql), which is far cheaper than checking per row.
            await using var importer = await connection.BeginBinaryImportAsync(
                "copy inbox__rebuild (user_id, device_id, chat_id, seq, created_at) from stdin (format binary)", cancellationToken);
            for (var i = 0; i < page.RowCount; i++)
            {
                await importer.StartRowAsync(cancellationToken);
                await importer.WriteAsync(page.RowUsers[i], NpgsqlDbType.Text, cancellationToken);
                await importer.WriteAsync(page.RowDevices[i], NpgsqlDbType.Text, cancellationToken);
                await importer.WriteAsync(page.RowChats[i], NpgsqlDbType.Text, cancellationToken);
                await importer.WriteAsync(page.RowSeqs[i], NpgsqlDbType.Bigint, cancellationToken);
                await importer.WriteAsync(page.RowCreatedAt[i], NpgsqlDbType.TimestampTz, cancellationToken);
            }

            await importer.CompleteAsync(cancellationToken);
        }

        if (page.AckCount > 0)
        {
            await using var batch = new NpgsqlBatch(connection, transaction);
            batch.BatchCommands.Add(Command(_shadow.UpsertWatermarks, page.AckUsers, page.AckDevices, page.AckChats, page.AckSeqs));
            await batch.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    public IReadOnlyList<string> FinalizeSql(RetentionCutoffs cutoffs) =>
    [
        """
        delete from inbox__rebuild i using ack_watermarks__rebuild w
        where w.user_id = i.user_id and w.device_id = i.device_id and w.chat_id = i.chat_id and i.seq <= w.acked_seq
        """,
        $"delete from inbox__rebuild where created_at < '{cutoffs.Inbox:O}'::timestamptz",
    ];

    private static NpgsqlBatchCommand Command(string sql, params object[] arrays)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var array in arrays)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = array });
        }

        return command;
    }

    private sealed class Sql(string suffix)
    {
        /// <summary>
        /// One statement per page; the watermark is read without a row lock (the page's advisory
        /// lock orders it against acks, see AppendApply). <c>on conflict do nothing</c>: a page
        /// applied again, or an event twice in an at-least-once log, leaves one row.
        /// </summary>
        public string InsertRows { get; } = $"""
            insert into inbox{suffix} (user_id, device_id, chat_id, seq, created_at)
            select r.user_id, r.device_id, r.chat_id, r.seq, r.created_at
            from unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::timestamptz[]) as r(user_id, device_id, chat_id, seq, created_at)
            left join ack_watermarks{suffix} w on w.user_id = r.user_id and w.device_id = r.device_id and w.chat_id = r.chat_id
            where w.acked_seq is null or r.seq > w.acked_seq
            on conflict do nothing
            """;

        public string UpsertWatermarks { get; } = $"""
            insert into ack_watermarks{suffix} as w (user_id, device_id, chat_id, acked_seq)
            select * from unnest($1::text[], $2::text[], $3::text[], $4::bigint[])
            on conflict (user_id, device_id, chat_id) do update set acked_seq = excluded.acked_seq
            where w.acked_seq < excluded.acked_seq
            """;

        public string DeleteAcked { get; } = $"""
            delete from inbox{suffix} i
            using unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) as a(user_id, device_id, chat_id, seq)
            where i.user_id = a.user_id and i.device_id = a.device_id and i.chat_id = a.chat_id and i.seq <= a.seq
            """;
    }
}
