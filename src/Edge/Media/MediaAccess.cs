using System.Text.Json;
using Messaging.ReadModels.Chats;
using Npgsql;
using NpgsqlTypes;

namespace Messaging.Edge.Media;

/// <summary>
/// Who may get a download URL for an attachment key: its uploader (the key names them), or a
/// member of a chat with a message carrying the key, for messages within their membership (the
/// same range history shows them: from the seq they joined to the seq they left). One query: the
/// GIN index on <c>messages.attachments</c> (migration 0003) finds the few messages with the key,
/// then the primary key of <c>chat_members</c> checks the caller. Everyone else is told the key
/// does not exist (404), so a key's existence is not revealed to non-members.
/// </summary>
internal sealed class MediaAccess(NpgsqlDataSource dataSource)
{
    public async Task<bool> MayReadAsync(string userId, string key, CancellationToken cancellationToken)
    {
        if (!MediaKeys.TryParse(key, out var uploader))
        {
            return false;
        }

        if (string.Equals(uploader, userId, StringComparison.Ordinal))
        {
            return true;
        }

        await using var command = dataSource.CreateCommand(
            $"""
            select exists (
                select 1 from messages m
                join chat_members cm on cm.chat_id = m.chat_id and cm.user_id = $1
                where m.attachments @> $2 and m.kind = '{ChangeKinds.Message}'
                  and m.seq >= cm.joined_seq and (cm.left_seq is null or m.seq <= cm.left_seq))
            """);
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
