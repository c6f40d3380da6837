using Messaging.Contracts.Devices;
using Messaging.Contracts.Serialization;
using Messaging.Contracts.Topics;
using Messaging.Projections.Runtime;
using Npgsql;
using NpgsqlTypes;

namespace Messaging.Projections.Inbox;

/// <summary>
/// <c>inbox</c>: one row per recipient device of every chat event, deleted by that device's ack;
/// <c>ack_watermarks</c>: the highest seq each device acked per chat, which later inserts respect
/// (the live path delivers and acks before this projection writes the row).
/// </summary>
internal sealed class InboxProjection : IProjection
{
    private static readonly ShadowTable[] OwnedTables =
    [
        new("inbox", Bulk: true, Key: "device_id, chat_id, seq"),
        new("ack_watermarks", Bulk: false, Key: null),
    ];

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
        if (page.RowCount > 0)
        {
            // Order matters against a concurrent ack in another runner (acks and events are on
            // different partitions): first make sure a watermark row exists for every pair (an
            // insert waits on a concurrent uncommitted insert of the same key), then insert rows
            // while holding FOR SHARE on those watermark rows. Either the ack commits first and
            // the insert sees its watermark, or the insert commits first and the ack's delete
            // (a later statement snapshot) sees the row. The lock must not depend on acked_seq: a
            // qualifying filter would skip a row whose new version is still uncommitted. See
            // docs/read-models.md.
            var pairDevices = new string[page.Pairs.Count];
            var pairChats = new string[page.Pairs.Count];
            for (var i = 0; i < page.Pairs.Count; i++)
            {
                (pairDevices[i], pairChats[i]) = page.Pairs[i];
            }

            batch.BatchCommands.Add(Command(sql.EnsureWatermarks, pairDevices, pairChats));
            batch.BatchCommands.Add(Command(sql.InsertRows, page.RowDevices.ToArray(), page.RowChats.ToArray(), page.RowSeqs.ToArray(), page.RowCreatedAt.ToArray()));
        }

        if (page.Acks.Count > 0)
        {
            var (devices, chats, seqs) = AckColumns(page);
            batch.BatchCommands.Add(Command(sql.UpsertWatermarks, devices, chats, seqs));
            batch.BatchCommands.Add(Command(sql.DeleteAcked, devices, chats, seqs));
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
                "copy inbox__rebuild (device_id, chat_id, seq, created_at) from stdin (format binary)", cancellationToken);
            for (var i = 0; i < page.RowCount; i++)
            {
                await importer.StartRowAsync(cancellationToken);
                await importer.WriteAsync(page.RowDevices[i], NpgsqlDbType.Text, cancellationToken);
                await importer.WriteAsync(page.RowChats[i], NpgsqlDbType.Text, cancellationToken);
                await importer.WriteAsync(page.RowSeqs[i], NpgsqlDbType.Bigint, cancellationToken);
                await importer.WriteAsync(page.RowCreatedAt[i], NpgsqlDbType.TimestampTz, cancellationToken);
            }

            await importer.CompleteAsync(cancellationToken);
        }

        if (page.Acks.Count > 0)
        {
            var (devices, chats, seqs) = AckColumns(page);
            await using var batch = new NpgsqlBatch(connection, transaction);
            batch.BatchCommands.Add(Command(_shadow.UpsertWatermarks, devices, chats, seqs));
            await batch.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    public IReadOnlyList<string> FinalizeSql(RetentionCutoffs cutoffs) =>
    [
        // The live path creates a zero watermark for every (device, chat) it ever inserted for.
        """
        insert into ack_watermarks__rebuild (device_id, chat_id, acked_seq)
        select distinct device_id, chat_id, 0 from inbox__rebuild
        on conflict do nothing
        """,
        """
        delete from inbox__rebuild i using ack_watermarks__rebuild w
        where w.device_id = i.device_id and w.chat_id = i.chat_id and i.seq <= w.acked_seq
        """,
        $"delete from inbox__rebuild where created_at < '{cutoffs.Inbox:O}'::timestamptz",
    ];

    private static (string[] Devices, string[] Chats, long[] Seqs) AckColumns(InboxPage page)
    {
        var devices = new string[page.Acks.Count];
        var chats = new string[page.Acks.Count];
        var seqs = new long[page.Acks.Count];
        for (var i = 0; i < page.Acks.Count; i++)
        {
            (devices[i], chats[i], seqs[i]) = page.Acks[i];
        }

        return (devices, chats, seqs);
    }

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
        public string EnsureWatermarks { get; } = $"""
            insert into ack_watermarks{suffix} (device_id, chat_id, acked_seq)
            select device_id, chat_id, 0 from unnest($1::text[], $2::text[]) as p(device_id, chat_id)
            on conflict do nothing
            """;

        public string InsertRows { get; } = $"""
            insert into inbox{suffix} (device_id, chat_id, seq, created_at)
            select r.device_id, r.chat_id, r.seq, r.created_at
            from unnest($1::text[], $2::text[], $3::bigint[], $4::timestamptz[]) as r(device_id, chat_id, seq, created_at)
            where r.seq > coalesce((
                select w.acked_seq from ack_watermarks{suffix} w
                where w.device_id = r.device_id and w.chat_id = r.chat_id
                for share), 0)
            on conflict do nothing
            """;

        public string UpsertWatermarks { get; } = $"""
            insert into ack_watermarks{suffix} as w (device_id, chat_id, acked_seq)
            select * from unnest($1::text[], $2::text[], $3::bigint[])
            on conflict (device_id, chat_id) do update set acked_seq = excluded.acked_seq
            where w.acked_seq < excluded.acked_seq
            """;

        public string DeleteAcked { get; } = $"""
            delete from inbox{suffix} i
            using unnest($1::text[], $2::text[], $3::bigint[]) as a(device_id, chat_id, seq)
            where i.device_id = a.device_id and i.chat_id = a.chat_id and i.seq <= a.seq
            """;
    }
}
