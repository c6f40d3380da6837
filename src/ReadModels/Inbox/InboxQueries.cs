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
    /// Sync, step 1: the user's chats from <c>$3</c> on (the <c>chat_members (user_id, chat_id)</c>
    /// index, in chat order) that hold something after the device's cursor and within the
    /// membership (<c>chats.last_seq</c> beyond it), each with the seq its pending events start
    /// after and where the membership ends.
    /// </summary>
    private const string PendingChatsSql = """
        select cm.chat_id, greatest(cm.joined_seq - 1, coalesce(c.acked_seq, 0)), cm.left_seq
        from chat_members cm
        join chats ch on ch.chat_id = cm.chat_id
        left join device_cursors c on c.user_id = cm.user_id and c.device_id = $2 and c.chat_id = cm.chat_id
        where cm.user_id = $1 and cm.chat_id >= $3
          and ch.last_seq > greatest(cm.joined_seq - 1, coalesce(c.acked_seq, 0))
        order by cm.chat_id
        """;

    /// <summary>
    /// Sync, step 2, per chat: a range scan of the <c>messages</c> key in seq order that stops
    /// after one page. One query joining step 1 planned a bitmap scan of every pending row of the
    /// chat and a sort, per page: 9 ms for a page of 200 out of 1,000 pending, against 0.7 ms
    /// here (EXPLAIN ANALYZE, offline catch-up data), and it grew with the backlog on every page.
    /// <c>$4</c> is where a companion device's share begins (null for a first device); <c>$6</c>
    /// the device's address, whose own ciphertext of an encrypted message is the only one selected.
    /// </summary>
    private static readonly string ChatPageSql = $"""
        select {MessageRows.ColumnsFor(6)}
        from messages m
        where m.chat_id = $1 and m.seq > $2 and m.seq <= $3
          and ($4::timestamptz is null or m.sent_at >= $4)
        order by m.seq
        limit $5
        """;

    /// <summary>The user's current chats, most recently active first, each with its last message and the device's unread count.</summary>
    private static readonly string ChatListSql = $"""
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
            select {MessageRows.ColumnsFor(5)} from messages m
            where m.chat_id = c.chat_id and m.kind = '{ChangeKinds.Message}' and m.seq >= cm.joined_seq
            order by m.seq desc limit 1) lm on true
        where cm.user_id = $1 and cm.left_seq is null
        order by c.last_event_at desc, c.chat_id
        limit $4
        """;

    private const string CursorSql = "select acked_seq from device_cursors where user_id = $1 and device_id = $2 and chat_id = $3";

    /// <summary>
    /// Appends to <c>page</c> up to <c>take</c> pending events of <c>device</c> after <c>after</c>,
    /// in (chat, seq) order, as the frames a live push carries. <c>historyFrom</c>: where a
    /// companion device's share begins; null for a user's first device. One connection for the
    /// page, released before the caller sends it.
    /// </summary>
    public async Task ReadSyncPageAsync(DeviceRef device, DateTimeOffset? historyFrom, SyncPosition after, int take, List<ServerFrame> page, CancellationToken cancellationToken)
    {
        var wanted = page.Count + take;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var chats = new List<(string ChatId, long After, long Until)>();
        await using (var command = new NpgsqlCommand(PendingChatsSql, connection))
        {
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = device.UserId });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = device.DeviceId });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = after.ChatId });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var chatId = reader.GetString(0);
                var from = reader.GetInt64(1);
                if (string.Equals(chatId, after.ChatId, StringComparison.Ordinal))
                {
                    from = Math.Max(from, after.Seq);
                }

                chats.Add((chatId, from, reader.IsDBNull(2) ? long.MaxValue : reader.GetInt64(2)));
            }
        }

        await using var chatPage = new NpgsqlCommand(ChatPageSql, connection);
        var chatParameter = new NpgsqlParameter<string> { TypedValue = "" };
        var afterParameter = new NpgsqlParameter<long>();
        var untilParameter = new NpgsqlParameter<long>();
        var takeParameter = new NpgsqlParameter<int>();
        chatPage.Parameters.Add(chatParameter);
        chatPage.Parameters.Add(afterParameter);
        chatPage.Parameters.Add(untilParameter);
        chatPage.Parameters.Add(From(historyFrom));
        chatPage.Parameters.Add(takeParameter);
        chatPage.Parameters.Add(new NpgsqlParameter<string> { TypedValue = device.Address });
        foreach (var (chatId, from, until) in chats)
        {
            if (page.Count >= wanted)
            {
                break;
            }

            if (from >= until)
            {
                continue;
            }

            chatParameter.TypedValue = chatId;
            afterParameter.TypedValue = from;
            untilParameter.TypedValue = until;
            takeParameter.TypedValue = wanted - page.Count;
            await using var reader = await chatPage.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                page.Add(MessageRows.Read(reader));
            }
        }
    }

    /// <summary>The position a streamed frame stands at (the next page starts after it).</summary>
    public static SyncPosition PositionOf(ServerFrame frame) => MessageRows.PositionOf(frame) is { } at
        ? new(at.ChatId, at.Seq)
        : throw new ArgumentException("a sync page holds only frames of chat events", nameof(frame));

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
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = device.Address });
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
