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
    private const string Head =
        "m.chat_id, m.seq, m.kind, m.message_id, m.client_msg_id, m.sender_user_id, m.sender_device_id, m.body, m.attachments, m.user_ids, m.title, m.sent_at, m.reply_to, ";

    private const string Tail = " as payload, m.target_seq, m.emoji, m.edited_at, m.deleted_at, m.reactions";

    /// <summary>
    /// The columns <see cref="Read"/> expects, in order, for a <c>messages</c> alias <c>m</c>, for a
    /// reader that is no device (no per-device payload is selected).
    /// </summary>
    public const string Columns = Head + "null::text" + Tail;

    /// <summary>
    /// <see cref="Columns"/> for the device whose address (<c>userId/deviceId</c>) is parameter
    /// <c>$<paramref name="addressParameter"/></c>: of an encrypted message or edit only that
    /// device's ciphertext leaves the database.
    /// </summary>
    public static string ColumnsFor(int addressParameter) =>
        Head + "m.payloads ->> $" + addressParameter.ToString(System.Globalization.CultureInfo.InvariantCulture) + Tail;

    public static ServerFrame Read(NpgsqlDataReader reader, int offset = 0)
    {
        var chatId = reader.GetString(offset);
        var seq = reader.GetInt64(offset + 1);
        var kind = reader.GetString(offset + 2);
        var sender = new DeviceRef(reader.GetString(offset + 5), reader.GetString(offset + 6));
        var at = reader.GetFieldValue<DateTimeOffset>(offset + 11);
        var messageId = reader.IsDBNull(offset + 3) ? "" : reader.GetString(offset + 3);
        var body = reader.IsDBNull(offset + 7) ? "" : reader.GetString(offset + 7);
        var payload = reader.IsDBNull(offset + 13) ? null : reader.GetString(offset + 13);
        var targetSeq = reader.IsDBNull(offset + 14) ? 0 : reader.GetInt64(offset + 14);
        switch (kind)
        {
            case ChangeKinds.Message:
                return new MessageFrame
                {
                    ChatId = chatId,
                    Seq = seq,
                    MessageId = messageId,
                    ClientMsgId = reader.IsDBNull(offset + 4) ? "" : reader.GetString(offset + 4),
                    Sender = sender,
                    Body = body,
                    SentAt = at,
                    Attachments = reader.IsDBNull(offset + 8) ? null : ReadAttachments(reader.GetFieldValue<byte[]>(offset + 8)),
                    ReplyTo = reader.IsDBNull(offset + 12) ? null : reader.GetString(offset + 12),
                    Payload = payload,
                    EditedAt = reader.IsDBNull(offset + 16) ? null : reader.GetFieldValue<DateTimeOffset>(offset + 16),
                    DeletedAt = reader.IsDBNull(offset + 17) ? null : reader.GetFieldValue<DateTimeOffset>(offset + 17),
                    Reactions = reader.IsDBNull(offset + 18) ? null : ReadReactions(reader.GetFieldValue<byte[]>(offset + 18)),
                };
            case ChangeKinds.MessageEdited:
                return new MessageEditedFrame
                {
                    ChatId = chatId,
                    Seq = seq,
                    MessageId = messageId,
                    MessageSeq = targetSeq,
                    Actor = sender,
                    Body = body,
                    Payload = payload,
                    EditedAt = at,
                };
            case ChangeKinds.MessageDeleted:
                return new MessageDeletedFrame { ChatId = chatId, Seq = seq, MessageId = messageId, MessageSeq = targetSeq, Actor = sender, DeletedAt = at };
            case ChangeKinds.Reaction:
                return new ReactionFrame
                {
                    ChatId = chatId,
                    Seq = seq,
                    MessageId = messageId,
                    MessageSeq = targetSeq,
                    Actor = sender,
                    Emoji = reader.IsDBNull(offset + 15) ? null : reader.GetString(offset + 15),
                    At = at,
                };
            default:
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
    }

    /// <summary>The <c>(chatId, seq)</c> a frame read by <see cref="Read"/> stands at.</summary>
    public static (string ChatId, long Seq)? PositionOf(ServerFrame frame) => frame switch
    {
        MessageFrame m => (m.ChatId, m.Seq),
        ChatUpdatedFrame u => (u.ChatId, u.Seq),
        MessageEditedFrame e => (e.ChatId, e.Seq),
        MessageDeletedFrame d => (d.ChatId, d.Seq),
        ReactionFrame r => (r.ChatId, r.Seq),
        _ => null,
    };

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

    /// <summary><c>{"userId": "emoji", …}</c> as a list in user id order (jsonb keeps its keys sorted by length, then bytes: re-sorted here).</summary>
    private static List<MessageReaction>? ReadReactions(byte[] utf8)
    {
        var reactions = new List<MessageReaction>();
        try
        {
            var reader = new Utf8JsonReader(utf8);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var userId = reader.GetString()!;
                reader.Read();
                if (reader.TokenType == JsonTokenType.String)
                {
                    reactions.Add(new MessageReaction(userId, reader.GetString()!));
                }
                else
                {
                    reader.Skip();
                }
            }
        }
        catch (JsonException)
        {
            return null;
        }

        reactions.Sort(static (a, b) => string.CompareOrdinal(a.UserId, b.UserId));
        return reactions.Count == 0 ? null : reactions;
    }
}
