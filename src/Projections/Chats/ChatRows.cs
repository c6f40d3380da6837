using System.Buffers;
using System.Text;
using System.Text.Json;
using Messaging.Contracts.Commands;
using Messaging.Contracts.Events;
using Messaging.ReadModels.Chats;

namespace Messaging.Projections.Chats;

/// <summary>One <c>messages</c> row: history holds every chat event, messages and membership changes alike.</summary>
internal sealed record MessageRow(
    string ChatId,
    long Seq,
    string Kind,
    string? MessageId,
    string? ClientMsgId,
    string SenderUserId,
    string SenderDeviceId,
    string? Body,
    string? AttachmentsJson,
    string[]? UserIds,
    string? Title,
    DateTime SentAt,
    string? ReplyTo = null,
    string? PayloadsJson = null,
    long? TargetSeq = null,
    string? Emoji = null);

/// <summary>Pure event → row mapping for the chat read model (the table contract in docs/read-models.md).</summary>
internal static class ChatRows
{
    public static MessageRow Message(ChatEvent e) => e switch
    {
        // Built directly, not as Row(...) with {...}: that allocated every message row twice (a
        // record's with clones), on the path that runs once per event in a rebuild.
        MessageSent m => new(
            m.ChatId, m.Seq, ChangeKinds.Message, m.MessageId, m.ClientMsgId, m.Actor.UserId, m.Actor.DeviceId, m.Body,
            m.Attachments is { Count: > 0 } a ? AttachmentsJson(a) : null, null, null, m.OccurredAt.UtcDateTime,
            m.ReplyTo, m.Payloads is { } p ? PayloadsJson(p) : null),
        MessageEdited ed => new(
            ed.ChatId, ed.Seq, ChangeKinds.MessageEdited, ed.MessageId, null, ed.Actor.UserId, ed.Actor.DeviceId, ed.Body, null, null, null, ed.OccurredAt.UtcDateTime,
            null, ed.Payloads is { } ep ? PayloadsJson(ep) : null, ed.MessageSeq),
        MessageDeleted d => new(
            d.ChatId, d.Seq, ChangeKinds.MessageDeleted, d.MessageId, null, d.Actor.UserId, d.Actor.DeviceId, null, null, null, null, d.OccurredAt.UtcDateTime,
            null, null, d.MessageSeq),
        ReactionChanged r => new(
            r.ChatId, r.Seq, ChangeKinds.Reaction, r.MessageId, null, r.Actor.UserId, r.Actor.DeviceId, null, null, null, null, r.OccurredAt.UtcDateTime,
            null, null, r.MessageSeq, r.Emoji),
        ChatCreated c => Row(e, ChangeKinds.Created) with { UserIds = MemberIds(c.Members), Title = c.Title },
        MembersAdded a => Row(e, ChangeKinds.MembersAdded) with { UserIds = [.. a.UserIds] },
        MemberRemoved r => Row(e, ChangeKinds.MemberRemoved) with { UserIds = [r.UserId] },
        MemberLeft l => Row(e, ChangeKinds.MemberLeft) with { UserIds = l.PromotedAdmin is null ? [l.UserId] : [l.UserId, l.PromotedAdmin] },
        AdminGranted g => Row(e, ChangeKinds.AdminGranted) with { UserIds = [g.UserId] },
        _ => throw new ArgumentOutOfRangeException(nameof(e), e.GetType().Name, "no history mapping"),
    };

    public static string Kind(ChatKind kind) => kind == ChatKind.Direct ? "direct" : "group";

    public static string Role(MemberRole role) => role == MemberRole.Admin ? "admin" : "member";

    /// <summary>
    /// The highest seq per chat in a page and the time of that event: one <c>chats</c> update
    /// per chat per page instead of one per event.
    /// </summary>
    public static List<(string ChatId, long Seq, DateTime At)> Bumps(IReadOnlyList<ChatEvent> events)
    {
        var all = new List<(string, long, DateTime)>(events.Count);
        for (var i = 0; i < events.Count; i++)
        {
            all.Add((events[i].ChatId, events[i].Seq, events[i].OccurredAt.UtcDateTime));
        }

        return Bumps(all);
    }

    /// <summary>The same from (chat, seq, time) triples: a rebuild's pre-encoded rows carry no event.</summary>
    public static List<(string ChatId, long Seq, DateTime At)> Bumps(IReadOnlyList<(string ChatId, long Seq, DateTime At)> events)
    {
        var latest = new Dictionary<string, (long Seq, DateTime At)>(StringComparer.Ordinal);
        for (var i = 0; i < events.Count; i++)
        {
            var (chat, seq, at) = events[i];
            if (!latest.TryGetValue(chat, out var current) || seq > current.Seq)
            {
                latest[chat] = (seq, at);
            }
        }

        var result = new List<(string, long, DateTime)>(latest.Count);
        foreach (var (chat, (seq, at)) in latest)
        {
            result.Add((chat, seq, at));
        }

        // Sorted: a stable lock order for concurrent writers (rebuild --chat, dead-letter retry).
        result.Sort(static (a, b) => string.CompareOrdinal(a.Item1, b.Item1));
        return result;
    }

    /// <summary>The attachment list as the JSON the wire contract uses (camelCase), written without reflection.</summary>
    public static string AttachmentsJson(IReadOnlyList<Attachment> attachments)
    {
        var buffer = new ArrayBufferWriter<byte>(128 * attachments.Count);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            for (var i = 0; i < attachments.Count; i++)
            {
                var a = attachments[i];
                writer.WriteStartObject();
                writer.WriteString("key"u8, a.Key);
                writer.WriteString("contentType"u8, a.ContentType);
                writer.WriteNumber("size"u8, a.Size);
                if (a.FileName is not null)
                {
                    writer.WriteString("fileName"u8, a.FileName);
                }

                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Per-device payloads as a jsonb object address → ciphertext (keys and values are ASCII: ids and base64).</summary>
    public static string PayloadsJson(IReadOnlyDictionary<string, string> payloads)
    {
        var buffer = new ArrayBufferWriter<byte>(64 * payloads.Count);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var (address, ciphertext) in payloads)
            {
                writer.WriteString(address, ciphertext);
            }

            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>True for the events that change an earlier message's row (edit, delete, reaction) besides writing their own.</summary>
    public static bool ChangesMessage(ChatEvent e) => e is MessageEdited or MessageDeleted or ReactionChanged;

    private static MessageRow Row(ChatEvent e, string kind) =>
        new(e.ChatId, e.Seq, kind, null, null, e.Actor.UserId, e.Actor.DeviceId, null, null, null, null, e.OccurredAt.UtcDateTime);

    private static string[] MemberIds(IReadOnlyList<ChatMember> members)
    {
        var ids = new string[members.Count];
        for (var i = 0; i < members.Count; i++)
        {
            ids[i] = members[i].UserId;
        }

        return ids;
    }
}
