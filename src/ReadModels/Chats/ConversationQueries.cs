using Messaging.Contracts.Commands;
using Npgsql;

namespace Messaging.ReadModels.Chats;

/// <summary>
/// Where a member stands in a chat: membership range, delivered (highest cursor of any of their
/// devices), read marker, and the part of it others may see (<see cref="SharedReadSeq"/>: the
/// highest marker made with read receipts on).
/// </summary>
public readonly record struct MemberPosition(string UserId, long JoinedSeq, long? LeftSeq, long DeliveredSeq, long ReadSeq, long SharedReadSeq);

/// <summary>A receipt range to resolve: the senders of messages in <c>(FromSeq, ToSeq]</c> of the chat besides the user (every sender when <see cref="UserId"/> is empty: Edge asks one span per chat).</summary>
public readonly record struct ReceiptRange(string ChatId, string UserId, long FromSeq, long ToSeq);

/// <summary>What the read models know of a range: the chat's projected last seq (0 when unknown) and the other senders in it.</summary>
public sealed record ReceiptTargets(long ProjectedLastSeq, IReadOnlyList<string> Senders);

/// <summary>
/// Typed queries for receipts and typing (issue 11): nothing is stored per device per message;
/// delivered follows from <c>device_cursors</c>, read from <c>read_markers</c>.
/// </summary>
public sealed class ConversationQueries(NpgsqlDataSource dataSource)
{
    /// <summary>The key prefix <c>chat_members (chat_id)</c>.</summary>
    private const string CurrentMembersSql = "select user_id from chat_members where chat_id = $1 and left_seq is null";

    /// <summary>
    /// Per range, a key range scan of <c>messages (chat_id, seq)</c>; with the chat's projected
    /// last seq, so the caller can tell "no other sender" from "not projected yet".
    /// </summary>
    private const string TargetsSql = $"""
        select r.i, coalesce(c.last_seq, 0), s.sender
        from unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[]) with ordinality as r(chat_id, user_id, from_seq, to_seq, i)
        left join chats c on c.chat_id = r.chat_id
        left join lateral (
            select distinct m.sender_user_id as sender from messages m
            where m.chat_id = r.chat_id and m.seq > r.from_seq and m.seq <= r.to_seq
              and m.kind = '{ChangeKinds.Message}' and m.sender_user_id <> r.user_id) s on true
        """;

    /// <summary>One primary-key lookup of <c>messages (chat_id, seq)</c>, only when the client gave the seq: no index on message ids is needed (it would cost every message and every rebuild).</summary>
    private const string FactsSql = $"""
        select message_id, sender_user_id, sent_at, payloads is not null, deleted_at is not null
        from messages where chat_id = $1 and seq = $2 and kind = '{ChangeKinds.Message}'
        """;

    /// <summary>Every member row of the chat (current and former) with its highest cursor and read marker: ≤ 1,024 + former members.</summary>
    private const string PositionsSql = """
        select cm.user_id, cm.joined_seq, cm.left_seq,
               coalesce((select max(d.acked_seq) from device_cursors d where d.user_id = cm.user_id and d.chat_id = cm.chat_id), 0),
               coalesce(r.read_seq, 0), coalesce(r.shared_read_seq, 0)
        from chat_members cm
        left join read_markers r on r.chat_id = cm.chat_id and r.user_id = cm.user_id
        where cm.chat_id = $1
        """;

    /// <summary>One query for every range of a flush; the result has one entry per range, in order.</summary>
    public async Task<ReceiptTargets[]> TargetsAsync(IReadOnlyList<ReceiptRange> ranges, CancellationToken cancellationToken)
    {
        var n = ranges.Count;
        var chats = new string[n];
        var users = new string[n];
        var from = new long[n];
        var to = new long[n];
        for (var i = 0; i < n; i++)
        {
            (chats[i], users[i], from[i], to[i]) = ranges[i];
        }

        var last = new long[n];
        var senders = new List<string>?[n];
        await using var command = dataSource.CreateCommand(TargetsSql);
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = chats });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = users });
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = from });
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = to });
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var i = (int)reader.GetInt64(0) - 1;
                last[i] = reader.GetInt64(1);
                if (!reader.IsDBNull(2))
                {
                    (senders[i] ??= []).Add(reader.GetString(2));
                }
            }
        }

        var result = new ReceiptTargets[n];
        for (var i = 0; i < n; i++)
        {
            result[i] = new ReceiptTargets(last[i], senders[i] ?? (IReadOnlyList<string>)[]);
        }

        return result;
    }

    /// <summary>
    /// The facts the Router needs about message <paramref name="messageId"/> at <paramref name="seq"/>
    /// of the chat; null when that seq is not that message (a wrong seq, or not projected yet).
    /// </summary>
    public async Task<MessageFacts?> MessageFactsAsync(string chatId, long seq, string messageId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(FactsSql);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = chatId });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = seq });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken) || reader.IsDBNull(0) || !string.Equals(reader.GetString(0), messageId, StringComparison.Ordinal))
        {
            return null;
        }

        return new MessageFacts
        {
            Seq = seq,
            SenderUserId = reader.GetString(1),
            SentAt = reader.GetFieldValue<DateTimeOffset>(2),
            Encrypted = reader.GetBoolean(3),
            Deleted = reader.GetBoolean(4),
        };
    }

    /// <summary>The chat's current members (empty when the chat is unknown).</summary>
    public async Task<string[]> CurrentMembersAsync(string chatId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(CurrentMembersSql);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = chatId });
        var members = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            members.Add(reader.GetString(0));
        }

        return [.. members];
    }

    /// <summary>Where every member of the chat stands (for the counts on a history page).</summary>
    public async Task<List<MemberPosition>> PositionsAsync(string chatId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(PositionsSql);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = chatId });
        var positions = new List<MemberPosition>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            positions.Add(new MemberPosition(
                reader.GetString(0), reader.GetInt64(1), reader.IsDBNull(2) ? null : reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4), reader.GetInt64(5)));
        }

        return positions;
    }
}
