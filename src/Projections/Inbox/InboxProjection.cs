using Messaging.Contracts.Devices;
using Messaging.Contracts.Serialization;
using Messaging.Contracts.Topics;
using Messaging.Projections.Runtime;
using Messaging.ReadModels.Inbox;
using Npgsql;

namespace Messaging.Projections.Inbox;

/// <summary>
/// The inbox as cursors: <c>device_cursors</c>, per (user, device, chat) the highest seq the
/// device acknowledged, advanced monotonically from <c>device.acks</c>. It reads no chat events:
/// a device's pending events follow from the chat's history and membership (projection
/// <c>chat</c>) and its cursor (<see cref="InboxRules"/>), so a message in a group of 1,024 costs
/// this projection nothing, where it used to write 2,048 rows.
/// </summary>
internal sealed class InboxProjection : IProjection
{
    private static readonly ShadowTable[] OwnedTables = [new(CursorStatements.Table(""), Bulk: false, Key: null)];

    private readonly string _live = CursorStatements.Advance("");
    private readonly string _shadow = CursorStatements.Advance(ShadowTable.Suffix);

    public string Name => "inbox";

    public IReadOnlyList<ShadowTable> Tables => OwnedTables;

    /// <summary>Cursors are per device, from acks: a chat's rebuild (its events) leaves them alone, they only ever grow.</summary>
    public IReadOnlyList<string>? DeleteChatSql => null;

    public IReadOnlyList<string> Topics(TopicNames names) => [names.DeviceAcks];

    public Decision Decode(in SourceRecord record, TopicNames names)
    {
        if (record.Value is null)
        {
            return Decision.Skip(null);
        }

        var decision = Decision.From(Codecs.Devices.Decode(record.Value));
        // device.acks carries only acks (one per record, or a node's batch); another device record there is not ours to apply.
        return decision.Disposition == Disposition.Apply && decision.Value is not (DeliveryAcked or DeliveriesAcked) ? Decision.Skip(decision.Type) : decision;
    }

    public void AppendApply(IReadOnlyList<ApplyRecord> records, NpgsqlBatch batch, TableSet tables)
    {
        // The per-row inbox needed an advisory lock ordering inserts against acks (an insert and an
        // ack's delete from two runners could leave an acked row); a monotonic upsert has nothing to order.
        var page = CursorPage.Plan(records);
        if (page.Count > 0)
        {
            var command = new NpgsqlBatchCommand(tables == TableSet.Live ? _live : _shadow);
            command.Parameters.Add(new NpgsqlParameter { Value = page.Users });
            command.Parameters.Add(new NpgsqlParameter { Value = page.Devices });
            command.Parameters.Add(new NpgsqlParameter { Value = page.Chats });
            command.Parameters.Add(new NpgsqlParameter { Value = page.Seqs });
            batch.BatchCommands.Add(command);
        }
    }

    public async Task BulkLoadAsync(IReadOnlyList<ApplyRecord> records, NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        // One row per (device, chat): a keyed upsert into the shadow table, like the live path.
        await using var batch = new NpgsqlBatch(connection, transaction);
        AppendApply(records, batch, TableSet.Shadow);
        if (batch.BatchCommands.Count > 0)
        {
            await batch.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    public IReadOnlyList<string> FinalizeSql(RetentionCutoffs cutoffs) => [];
}
