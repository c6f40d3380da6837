using Messaging.Contracts.Protocol;
using Messaging.ReadModels.Chats;
using Npgsql;

namespace Messaging.Edge.History;

/// <summary>
/// Chat history from the read models (the chat list with unread counts is <c>InboxQueries</c>). Access follows membership in
/// <c>chat_members</c>: a member sees messages from the seq they joined at; a former member
/// keeps read access to the range they were a member for.
/// </summary>
internal sealed class HistoryReader(NpgsqlDataSource dataSource)
{
    /// <summary>A page of messages before <paramref name="beforeSeq"/> (newest page when null), oldest first; null when not a member.</summary>
    public async Task<HistoryPageFrame?> PageAsync(string userId, string chatId, long? beforeSeq, int limit, string? requestId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        long joinedSeq;
        long? leftSeq;
        await using (var member = new NpgsqlCommand("select joined_seq, left_seq from chat_members where chat_id = $1 and user_id = $2", connection))
        {
            member.Parameters.Add(new NpgsqlParameter<string> { TypedValue = chatId });
            member.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
            await using var reader = await member.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken))
            {
                return null;
            }

            joinedSeq = reader.GetInt64(0);
            leftSeq = reader.IsDBNull(1) ? null : reader.GetInt64(1);
        }

        // One row more than asked tells whether an older page exists.
        await using var page = new NpgsqlCommand(
            $"""
            select {MessageRows.Columns} from messages m
            where m.chat_id = $1 and m.kind = '{ChangeKinds.Message}' and m.seq >= $2 and m.seq < $3 and m.seq <= $4
            order by m.seq desc
            limit $5
            """,
            connection);
        page.Parameters.Add(new NpgsqlParameter<string> { TypedValue = chatId });
        page.Parameters.Add(new NpgsqlParameter<long> { TypedValue = joinedSeq });
        page.Parameters.Add(new NpgsqlParameter<long> { TypedValue = beforeSeq ?? long.MaxValue });
        page.Parameters.Add(new NpgsqlParameter<long> { TypedValue = leftSeq ?? long.MaxValue });
        page.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit + 1 });
        var messages = new List<MessageFrame>(Math.Min(limit + 1, 256));
        await using (var reader = await page.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                messages.Add((MessageFrame)MessageRows.Read(reader));
            }
        }

        var hasMore = messages.Count > limit;
        if (hasMore)
        {
            messages.RemoveAt(messages.Count - 1);
        }

        messages.Reverse();
        return new HistoryPageFrame { Id = requestId, ChatId = chatId, Messages = messages, HasMore = hasMore };
    }
}
