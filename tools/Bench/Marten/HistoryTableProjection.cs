using JasperFx.Events;
using Marten;
using Marten.Events.Projections;
using Messaging.Contracts.Events;
using Weasel.Postgresql;
using Weasel.Postgresql.Tables;

namespace Messaging.Bench.Marten;

/// <summary>
/// History as a flat table (<see cref="HistoryStore.Table"/>): one <c>marten_history</c> row per
/// chat event, queued with <c>QueueSqlCommand</c> into the same batch as the events, in the shape
/// of the Npgsql <c>messages</c> table. The alternative to reading history from the streams.
/// </summary>
public sealed class HistoryTableProjection : EventProjection
{
    public const string TableName = "marten_history";

    private readonly string _insert;
    private readonly string _insertWithoutBody;

    public HistoryTableProjection(string schema)
    {
        var table = new Table(new PostgresqlObjectName(schema, TableName, SchemaUtils.IdentifierUsage.General));
        table.AddColumn<string>("chat_id").AsPrimaryKey();
        table.AddColumn<long>("seq").AsPrimaryKey();
        table.AddColumn<string>("kind").NotNull();
        table.AddColumn<string>("sender_user_id").NotNull();
        table.AddColumn<string>("sender_device_id").NotNull();
        table.AddColumn<string>("body");
        table.AddColumn("sent_at", "timestamptz").NotNull();
        SchemaObjects.Add(table);
        _insert = $"insert into {schema}.{TableName} (chat_id, seq, kind, sender_user_id, sender_device_id, body, sent_at) values (?, ?, ?, ?, ?, ?, ?) on conflict do nothing";
        _insertWithoutBody = $"insert into {schema}.{TableName} (chat_id, seq, kind, sender_user_id, sender_device_id, sent_at) values (?, ?, ?, ?, ?, ?) on conflict do nothing";
    }

    public override ValueTask ApplyAsync(IDocumentOperations operations, IEvent e, CancellationToken cancellation)
    {
        if (e.Data is MessageSent m)
        {
            operations.QueueSqlCommand(_insert, m.ChatId, m.Seq, "message", m.Actor.UserId, m.Actor.DeviceId, m.Body, m.OccurredAt);
        }
        else if (e.Data is ChatEvent c)
        {
            operations.QueueSqlCommand(_insertWithoutBody, c.ChatId, c.Seq, MartenChatStore.HistoryKind(c), c.Actor.UserId, c.Actor.DeviceId, c.OccurredAt);
        }

        return ValueTask.CompletedTask;
    }
}
