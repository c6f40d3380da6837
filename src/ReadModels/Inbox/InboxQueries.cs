using Messaging.Contracts;
using Messaging.Contracts.Protocol;
using Messaging.ReadModels.Chats;
using Npgsql;
using NpgsqlTypes;

namespace Messaging.ReadModels.Inbox;

/// <summary>A chat the caller belongs to, for <c>GET /v1/chats</c>.</summary>
public sealed record ChatSummary
{
    public required string ChatId { get; init; }

    public required string Kind { get; init; }

    public string? Title { get; init; }

    public required string Role { get; init; }

    public required long LastSeq { get; init; }

    public required DateTimeOffset LastEventAt { get; init; }

    /// <summary>Other members' messages after the calling device's cursor (<see cref="InboxRules.IsUnread"/>).</summary>
    public required long Unread { get; init; }

    public MessageFrame? LastMessage { get; init; }
}

/// <summary>Where a sync page ends: the next page starts after it (keyset paging in (chat, seq) order).</summary>
public readonly record struct SyncPosition(string ChatId, long Seq)
{
    public static readonly SyncPosition Start = new("", 0);
}

/// <summary>
/// The inbox as typed queries (docs/read-models.md): a device's pending events (sync), its chat
/// list with unread counts, its cursors. They run <see cref="InboxRules"/> in SQL over
/// <c>chat_members</c>, <c>messages</c> and <c>device_cursors</c>; <paramref name="dataSource"/>
/// is the read models' schema.
/// </summary>
public sealed class InboxQueries(NpgsqlDataSource dataSource)
{
    /// <summary>
    /// One page of pending events in (chat, seq) order. Per chat of the user (the
    /// <c>chat_members (user_id, chat_id)</c> index, in chat order) a range scan of the
    /// <c>messages</c> primary key from the first pending seq: a nested loop whose output is
    /// already in (chat, seq) order, so the limit stops it after one page.
    /// <c>$4</c> is where a companion device's share begins (null for a first device).
    /// </summary>
    private const string SyncPageSql = $"""
        select {MessageRows.Columns}
        from chat_members cm
        left join device_cursors c on c.user_id = cm.user_id and c.device_id = $2 and c.chat_id = cm.chat_id
        join messages m on m.chat_id = cm.chat_id
            and m.seq >= cm.joined_seq and (cm.left_seq is null or m.seq <= cm.left_seq)
            and m.seq > coalesce(c.acked_seq, 0)
        where cm.user_id = $1 and cm.chat_id >= $3
          and ($4::timestamptz is null or m.sent_at >= $4)
          and (m.chat_id, m.seq) > ($3, $5)
        order by m.chat_id, m.seq
        limit $6
        """;

    /// <summary>The user's current chats, most recently active first, each with its last message and the device's unread count.</summary>
    private const string ChatListSql = $"""
        select c.chat_id, c.kind, c.title, cm.role, c.last_seq, c.last_event_at,
               (select count(*) from messages u
                where u.chat_id = cm.chat_id and u.seq >= cm.joined_seq and u.seq > coalesce(cur.acked_seq, 0)
                  and u.kind = '{ChangeKinds.Message}' and u.sender_user_id <> $1
                  and ($3::timestamptz is null or u.sent_at >= $3)) as unread,
               lm.*
        from chat_members cm
        join chats c on c.chat_id = cm.chat_id
        left join device_cursors cur on cur.user_id = cm.user_id and cur.device_id = $2 and cur.chat_id = cm.chat_id
        left join lateral (
            select {MessageRows.Columns} from messages m
            where m.chat_id = c.chat_id and m.kind = '{ChangeKinds.Message}' and m.seq >= cm.joined_seq
            order by m.seq desc limit 1) lm on true
        where cm.user_id = $1 and cm.left_seq is null
        order by c.last_event_at desc, c.chat_id
        limit $4
        """;

    private const string CursorSql = "select acked_seq from device_cursors where user_id = $1 and device_id = $2 and chat_id = $3";

    /// <summary>
    /// Appends to <c>page</c> up to <c>take</c> pending events of <c>device</c> after <c>after</c>,
    /// as the frames a live push carries. <c>historyFrom</c>: where a companion device's share
    /// begins; null for a user's first device.
    /// </summary>
    public async Task ReadSyncPageAsync(DeviceRef device, DateTimeOffset? historyFrom, SyncPosition after, int take, List<ServerFrame> page, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(SyncPageSql);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = device.UserId });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = device.DeviceId });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = after.ChatId });
        command.Parameters.Add(From(historyFrom));
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = after.Seq });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = take });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            page.Add(MessageRows.Read(reader));
        }
    }

    /// <summary>The position a streamed frame stands at (the next page starts after it).</summary>
    public static SyncPosition PositionOf(ServerFrame frame) => frame switch
    {
        MessageFrame m => new(m.ChatId, m.Seq),
        ChatUpdatedFrame u => new(u.ChatId, u.Seq),
        _ => throw new ArgumentException("a sync page holds only message and chat.updated frames", nameof(frame)),
    };

    /// <summary>
    /// The user's current chats, most recently active first, with the device's unread count;
    /// <c>historyFrom</c> as for <see cref="ReadSyncPageAsync"/> (a companion's unread count starts at its registration).
    /// </summary>
    public async Task<IReadOnlyList<ChatSummary>> ChatsAsync(DeviceRef device, DateTimeOffset? historyFrom, int limit, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(ChatListSql);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = device.UserId });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = device.DeviceId });
        command.Parameters.Add(From(historyFrom));
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        var chats = new List<ChatSummary>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            chats.Add(new ChatSummary
            {
                ChatId = reader.GetString(0),
                Kind = reader.GetString(1),
                Title = reader.IsDBNull(2) ? null : reader.GetString(2),
                Role = reader.GetString(3),
                LastSeq = reader.GetInt64(4),
                LastEventAt = reader.GetFieldValue<DateTimeOffset>(5),
                Unread = reader.GetInt64(6),
                LastMessage = reader.IsDBNull(7) ? null : (MessageFrame)MessageRows.Read(reader, 7),
            });
        }

        return chats;
    }

    /// <summary>The device's cursor in the chat: the highest seq it acknowledged (0 before its first ack).</summary>
    public async Task<long> CursorAsync(DeviceRef device, string chatId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(CursorSql);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = device.UserId });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = device.DeviceId });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = chatId });
        return await command.ExecuteScalarAsync(cancellationToken) is long seq ? seq : 0;
    }

    private static NpgsqlParameter From(DateTimeOffset? historyFrom) =>
        new() { NpgsqlDbType = NpgsqlDbType.TimestampTz, Value = historyFrom is { } at ? at.UtcDateTime : DBNull.Value };
}

/// <summary>
/// The statement that advances cursors from acks, for the projection that owns <c>device_cursors</c>:
/// kept next to the queries that read the table, so a renamed column fails in one project.
/// </summary>
public static class CursorStatements
{
    /// <summary>The cursor table, live or a rebuild's shadow copy (<paramref name="suffix"/>).</summary>
    public static string Table(string suffix) => "device_cursors" + suffix;

    /// <summary>
    /// One upsert per page: <c>$1..$4</c> are (user, device, chat, seq) arrays with one entry per
    /// key, in key order (a multi-row upsert may not touch a row twice, and the order is the lock
    /// order). Monotonic (<see cref="InboxRules.Advance"/>): a lower ack leaves the row alone.
    /// </summary>
    public static string Advance(string suffix) => $"""
        insert into {Table(suffix)} as w (user_id, device_id, chat_id, acked_seq)
        select * from unnest($1::text[], $2::text[], $3::text[], $4::bigint[])
        on conflict (user_id, device_id, chat_id) do update set acked_seq = excluded.acked_seq
        where w.acked_seq < excluded.acked_seq
        """;
}
