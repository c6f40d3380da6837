using System.Buffers;
using System.Text.Json;
using Messaging.Contracts.Commands;
using Messaging.Contracts.Events;

namespace Messaging.Router.Chats;

/// <summary>
/// Writes a chat's <c>chat.state</c> snapshot straight from <see cref="ChatState"/> into one reused
/// buffer: the bytes <see cref="ChatStateCodec.Encode"/> gives (a unit test compares them for every
/// field and flag), without building a snapshot record per state and one per recent message, and
/// without growing a fresh buffer per state. The Router encodes every changed chat at each flush on
/// its loop thread; a busy group's snapshot holds up to <c>Router:RecentClientMsgIds</c> (1,000)
/// recent messages, ~150 KB. Profiled 2026-11-26 at 2,000 sends/s (100 groups): the serializer
/// path took ~5 % of the loop thread, half of it in buffer growth and copies
/// (docs/benchmarks.md, "fifth session").
/// </summary>
public sealed class ChatStateEncoder : IDisposable
{
    private readonly ArrayBufferWriter<byte> _buffer = new(64 * 1024);
    private readonly Utf8JsonWriter _writer;

    public ChatStateEncoder()
    {
        _writer = new Utf8JsonWriter(_buffer);
    }

    /// <summary>
    /// What a snapshot of <paramref name="state"/> holds, copied (members, and each recent message
    /// with its deleted flag: the only part of a recent message that changes), so it can be encoded
    /// on another thread while the decider goes on mutating the state. ~10 µs for 1,000 recent
    /// messages, against milliseconds for the encoding.
    /// </summary>
    public static ChatStateCopy Capture(ChatState state)
    {
        var members = new MemberCopy[state.Members.Count];
        for (var i = 0; i < members.Length; i++)
        {
            var m = state.Members[i];
            members[i] = new MemberCopy(m.UserId, m.Role, m.JoinedSeq);
        }

        var recent = new RecentCopy[state.RecentCount];
        var at = 0;
        foreach (var r in state.RecentMessages())
        {
            recent[at++] = new RecentCopy(r, r.Deleted);
        }

        return new ChatStateCopy(state.ChatId, state.Kind, state.Title, state.LastSeq, state.LastCommandOffset, members, recent);
    }

    public byte[] Encode(ChatState state) => Encode(Capture(state));

    public byte[] Encode(ChatStateCopy state)
    {
        _buffer.ResetWrittenCount();
        _writer.Reset(_buffer);
        var w = _writer;
        // Property order and names as RouterJsonContext writes ChatStateSnapshot (declaration order, camelCase, nulls left out).
        w.WriteStartObject();
        w.WriteString("type"u8, ChatStateSnapshot.TypeName);
        w.WriteNumber("v"u8, ChatStateCodec.MaxVersion);
        w.WriteString("chatId"u8, state.ChatId);
        w.WriteString("kind"u8, state.Kind.ToString());
        if (state.Title is { } title)
        {
            w.WriteString("title"u8, title);
        }

        w.WriteNumber("lastSeq"u8, state.LastSeq);
        w.WriteNumber("lastCommandOffset"u8, state.LastCommandOffset);
        w.WriteStartArray("members"u8);
        foreach (var m in state.Members)
        {
            w.WriteStartObject();
            w.WriteString("userId"u8, m.UserId);
            w.WriteString("role"u8, m.Role.ToString());
            w.WriteNumber("joinedSeq"u8, m.JoinedSeq);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteStartArray("recent"u8);
        foreach (var (r, deleted) in state.Recent)
        {
            w.WriteStartObject();
            w.WriteString("clientMsgId"u8, r.ClientMsgId);
            w.WriteNumber("seq"u8, r.Seq);
            w.WriteString("messageId"u8, r.MessageId);
            if (r.Sender is { } sender)
            {
                w.WriteString("sender"u8, sender);
            }

            if (r.SentAt is { } at)
            {
                w.WriteNumber("at"u8, at.ToUnixTimeMilliseconds());
            }

            // False flags are left out, as the snapshot record holds them as null.
            if (r.Encrypted)
            {
                w.WriteBoolean("encrypted"u8, true);
            }

            if (deleted)
            {
                w.WriteBoolean("deleted"u8, true);
            }

            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
        w.Flush();
        return _buffer.WrittenSpan.ToArray();
    }

    public void Dispose() => _writer.Dispose();
}

/// <summary>A chat's state as one snapshot holds it, taken by <see cref="ChatStateEncoder.Capture"/>.</summary>
public sealed record ChatStateCopy(string ChatId, ChatKind Kind, string? Title, long LastSeq, long LastCommandOffset, MemberCopy[] Members, RecentCopy[] Recent);

public readonly record struct MemberCopy(string UserId, MemberRole Role, long JoinedSeq);

/// <summary>A recent message (immutable but for its deleted flag) and that flag as it was when captured.</summary>
public readonly record struct RecentCopy(RecentMessage Message, bool Deleted);
