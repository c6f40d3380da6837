using System.Text.Json;
using Messaging.Contracts;
using Messaging.Contracts.Commands;
using Messaging.Contracts.Protocol;
using Messaging.Contracts.Serialization;
using Npgsql;

namespace Messaging.ReadModels.Chats;

/// <summary>Reads rows of the <c>messages</c> read model (docs/read-models.md) as the frames a live push would carry.</summary>
public static class MessageRows
{
    /// <summary>The columns <see cref="Read"/> expects, in order, for a <c>messages</c> alias <c>m</c>.</summary>
    public const string Columns =
        "m.chat_id, m.seq, m.kind, m.message_id, m.client_msg_id, m.sender_user_id, m.sender_device_id, m.body, m.attachments, m.user_ids, m.title, m.sent_at";

    public static ServerFrame Read(NpgsqlDataReader reader, int offset = 0)
    {
        var chatId = reader.GetString(offset);
        var seq = reader.GetInt64(offset + 1);
        var kind = reader.GetString(offset + 2);
        var sender = new DeviceRef(reader.GetString(offset + 5), reader.GetString(offset + 6));
        var at = reader.GetFieldValue<DateTimeOffset>(offset + 11);
        if (string.Equals(kind, ChangeKinds.Message, StringComparison.Ordinal))
        {
            return new MessageFrame
            {
                ChatId = chatId,
                Seq = seq,
                MessageId = reader.IsDBNull(offset + 3) ? "" : reader.GetString(offset + 3),
                ClientMsgId = reader.IsDBNull(offset + 4) ? "" : reader.GetString(offset + 4),
                Sender = sender,
                Body = reader.IsDBNull(offset + 7) ? "" : reader.GetString(offset + 7),
                SentAt = at,
                Attachments = reader.IsDBNull(offset + 8) ? null : ReadAttachments(reader.GetFieldValue<byte[]>(offset + 8)),
            };
        }

        return new ChatUpdatedFrame
        {
            ChatId = chatId,
            Seq = seq,
            Change = kind,
            Actor = sender,
            UserIds = reader.IsDBNull(offset + 9) ? null : reader.GetFieldValue<string[]>(offset + 9),
            Title = reader.IsDBNull(offset + 10) ? null : reader.GetString(offset + 10),
            At = at,
        };
    }

    private static IReadOnlyList<Attachment>? ReadAttachments(byte[] utf8)
    {
        try
        {
            return JsonSerializer.Deserialize(utf8, ContractsJsonContext.Default.IReadOnlyListAttachment);
        }
        catch (JsonException)
        {
            // A row the projection wrote in a shape this build does not read: show the message without them.
            return null;
        }
    }
}
