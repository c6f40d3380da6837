using Messaging.Contracts.Protocol;
using Messaging.ReadModels.Chats;
using Npgsql;

namespace Messaging.Edge.History;

/// <summary>A chat the caller belongs to, for <c>GET /v1/chats</c>.</summary>
public sealed record ChatSummary
{
    public required string ChatId { get; init; }

    public required string Kind { get; init; }

    public string? Title { get; init; }

    public required string Role { get; init; }

    public required long LastSeq { get; init; }

    public required DateTimeOffset LastEventAt { get; init; }

    /// <summary>Inbox rows of the calling device in this chat (delivered but not acknowledged, or not delivered yet).</summary>
    public required long Unread { get; init; }

    public MessageFrame? LastMessage { get; init; }
}

/// <summary>
/// Chat history and chat lists from the read models (the queries live in
/// <c>src/ReadModels</c>). Access follows membership in <c>chat_members</c>: a member sees
/// messages from the seq they joined at; a former member keeps read access to the range they
/// were a member for.
/// </summary>
internal sealed class HistoryReader(NpgsqlDataSource dataSource, HistoryQueries history)
{
    /// <summary>A page of messages before <paramref name="beforeSeq"/> (newest page when null), oldest first; null when not a member.</summary>
    public Task<HistoryPageFrame?> PageAsync(string userId, string chatId, long? beforeSeq, int limit, string? requestId, CancellationToken cancellationToken) =>
        history.PageAsync(userId, chatId, beforeSeq, limit, requestId, cancellationToken);

    /// <summary>The user's current chats, most recently active first, with the device's unread count.</summary>
    public async Task<IReadOnlyList<ChatSummary>> ChatsAsync(string userId, string deviceId, int limit, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            $"""
            select c.chat_id, c.kind, c.title, cm.role, c.last_seq, c.last_event_at,
                   (select count(*) from inbox i where i.user_id = $1 and i.device_id = $2 and i.chat_id = c.chat_id) as unread,
                   lm.*
            from chat_members cm
            join chats c on c.chat_id = cm.chat_id
            left join lateral (
                select {MessageRows.Columns} from messages m
                where m.chat_id = c.chat_id and m.kind = '{ChangeKinds.Message}' and m.seq >= cm.joined_seq
                order by m.seq desc limit 1) lm on true
            where cm.user_id = $1 and cm.left_seq is null
            order by c.last_event_at desc, c.chat_id
            limit $3
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = deviceId });
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
}
