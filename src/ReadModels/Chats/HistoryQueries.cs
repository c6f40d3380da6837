using System.Text.Json;
using Messaging.Contracts;
using Messaging.Contracts.Protocol;
using Npgsql;
using NpgsqlTypes;

namespace Messaging.ReadModels.Chats;

/// <summary>
/// Typed queries on <c>messages</c> within a reader's membership (<c>chat_members</c>): a member
/// sees messages from the seq they joined at; a former member keeps read access to the range
/// they were a member for (docs/read-models.md).
/// </summary>
public sealed class HistoryQueries(NpgsqlDataSource dataSource)
{
    private const string MembershipSql = "select joined_seq, left_seq from chat_members where chat_id = $1 and user_id = $2";

    // One row more than asked tells whether an older page exists. $6: the reading device's
    // address, whose own ciphertext of an encrypted message is the only one selected.
    private static readonly string PageSql = $"""
        select {MessageRows.ColumnsFor(6)} from messages m
        where m.chat_id = $1 and m.kind = '{ChangeKinds.Message}' and m.seq >= $2 and m.seq < $3 and m.seq <= $4
        order by m.seq desc
        limit $5
        """;

    /// <summary>
    /// The GIN index on <c>messages.attachments</c> (migration 0003) finds the few messages with
    /// the key, then the primary key of <c>chat_members</c> checks the caller's range.
    /// </summary>
    private const string AttachmentVisibleSql = $"""
        select exists (
            select 1 from messages m
            join chat_members cm on cm.chat_id = m.chat_id and cm.user_id = $1
            where m.attachments @> $2 and m.kind = '{ChangeKinds.Message}'
              and m.seq >= cm.joined_seq and (cm.left_seq is null or m.seq <= cm.left_seq))
        """;

    /// <summary>
    /// A page of messages before <paramref name="beforeSeq"/> (newest page when null), oldest first,
    /// as they are now (latest text, reactions, tombstones), each encrypted one with the reading
    /// device's own payload; null when the device's user is not a member.
    /// </summary>
    public async Task<HistoryPageFrame?> PageAsync(DeviceRef reader, string chatId, long? beforeSeq, int limit, string? requestId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        long joinedSeq;
        long? leftSeq;
        await using (var member = new NpgsqlCommand(MembershipSql, connection))
        {
            member.Parameters.Add(new NpgsqlParameter<string> { TypedValue = chatId });
            member.Parameters.Add(new NpgsqlParameter<string> { TypedValue = reader.UserId });
            await using var row = await member.ExecuteReaderAsync(cancellationToken);
            if (!await row.ReadAsync(cancellationToken))
            {
                return null;
            }

            joinedSeq = row.GetInt64(0);
            leftSeq = row.IsDBNull(1) ? null : row.GetInt64(1);
        }

        await using var page = new NpgsqlCommand(PageSql, connection);
        page.Parameters.Add(new NpgsqlParameter<string> { TypedValue = chatId });
        page.Parameters.Add(new NpgsqlParameter<long> { TypedValue = joinedSeq });
        page.Parameters.Add(new NpgsqlParameter<long> { TypedValue = beforeSeq ?? long.MaxValue });
        page.Parameters.Add(new NpgsqlParameter<long> { TypedValue = leftSeq ?? long.MaxValue });
        page.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit + 1 });
        page.Parameters.Add(new NpgsqlParameter<string> { TypedValue = reader.Address });
        var messages = new List<MessageFrame>(Math.Min(limit + 1, 256));
        await using (var rows = await page.ExecuteReaderAsync(cancellationToken))
        {
            while (await rows.ReadAsync(cancellationToken))
            {
                messages.Add((MessageFrame)MessageRows.Read(rows));
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

    /// <summary>True when a message carrying attachment <paramref name="key"/> lies within one of the user's membership ranges.</summary>
    public async Task<bool> AttachmentVisibleAsync(string userId, string key, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(AttachmentVisibleSql);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Containing(key), NpgsqlDbType = NpgsqlDbType.Jsonb });
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary><c>[{"key": …}]</c>: the jsonb an attachments array containing the key contains.</summary>
    private static string Containing(string key)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            writer.WriteStartObject();
            writer.WriteString("key"u8, key);
            writer.WriteEndObject();
            writer.WriteEndArray();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}
