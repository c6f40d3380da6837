using System.Buffers;
using System.Text.Json;
using Messaging.Contracts.Commands;
using Messaging.Contracts.Events;

namespace Messaging.Router.Chats;

/// <summary>
/// Encodes chat states into one reused buffer, through the same source-generated serializer as
/// <see cref="ChatStateCodec.Encode"/> (the same bytes). A busy group's snapshot holds up to
/// <c>Router:RecentClientMsgIds</c> (1,000) recent messages, ~150 KB, and growing a fresh buffer per
/// state was half of the encoding's cost on the Router's loop thread at 2,000 sends/s
/// (docs/benchmarks.md, "fifth session"). <see cref="Capture"/> copies a state so that a flush can
/// encode it on the thread pool while the decider goes on.
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
        JsonSerializer.Serialize(_writer, ChatStateCodec.Snapshot(state), RouterJsonContext.Default.ChatStateSnapshot);
        return _buffer.WrittenSpan.ToArray();
    }

    public void Dispose() => _writer.Dispose();
}

/// <summary>A chat's state as one snapshot holds it, taken by <see cref="ChatStateEncoder.Capture"/>.</summary>
public sealed record ChatStateCopy(string ChatId, ChatKind Kind, string? Title, long LastSeq, long LastCommandOffset, MemberCopy[] Members, RecentCopy[] Recent);

public readonly record struct MemberCopy(string UserId, MemberRole Role, long JoinedSeq);

/// <summary>A recent message (immutable but for its deleted flag) and that flag as it was when captured.</summary>
public readonly record struct RecentCopy(RecentMessage Message, bool Deleted);
