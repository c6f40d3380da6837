using System.Text.Json;
using System.Text.Json.Serialization;
using Messaging.Contracts.Commands;
using Messaging.Contracts.Events;

namespace Messaging.Router.Chats;

/// <summary>
/// A chat's state as written to the compacted <c>chat.state</c> changelog (key: chat id). Router
/// internal: only Router instances read it, on partition assignment. Versioned like every record
/// so a rolling upgrade can still read an older snapshot.
/// </summary>
internal sealed record ChatStateSnapshot
{
    public const string TypeName = "ChatStateSnapshot";

    public string Type { get; init; } = TypeName;

    public int V { get; init; } = 1;

    public required string ChatId { get; init; }

    public required ChatKind Kind { get; init; }

    public string? Title { get; init; }

    public required long LastSeq { get; init; }

    public required long LastCommandOffset { get; init; }

    /// <summary>Members in join order.</summary>
    public required IReadOnlyList<MemberSnapshot> Members { get; init; }

    /// <summary>Recent messages, oldest first.</summary>
    public required IReadOnlyList<RecentSendSnapshot> Recent { get; init; }
}

internal sealed record MemberSnapshot(string UserId, MemberRole Role, long JoinedSeq);

/// <summary>
/// A recent message. <c>sender</c>, <c>at</c> (Unix milliseconds), <c>encrypted</c> and
/// <c>deleted</c> were added for edits and deletes (issue 11): optional, so a snapshot without
/// them still reads (and an older Router ignores them), still version 1; false flags are left out.
/// </summary>
internal sealed record RecentSendSnapshot(string ClientMsgId, long Seq, string MessageId, string? Sender = null, long? At = null, bool? Encrypted = null, bool? Deleted = null);

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true,
    RespectRequiredConstructorParameters = true,
    RespectNullableAnnotations = true)]
[JsonSerializable(typeof(ChatStateSnapshot))]
internal sealed partial class RouterJsonContext : JsonSerializerContext;

/// <summary>Converts <see cref="ChatState"/> to and from its <c>chat.state</c> record.</summary>
public static class ChatStateCodec
{
    public const int MaxVersion = 1;

    public static byte[] Encode(ChatState state) =>
        JsonSerializer.SerializeToUtf8Bytes(Snapshot(ChatStateEncoder.Capture(state)), RouterJsonContext.Default.ChatStateSnapshot);

    /// <summary>The snapshot record of a captured state: the one definition of what <c>chat.state</c> holds.</summary>
    internal static ChatStateSnapshot Snapshot(ChatStateCopy copy) => new()
    {
        ChatId = copy.ChatId,
        Kind = copy.Kind,
        Title = copy.Title,
        LastSeq = copy.LastSeq,
        LastCommandOffset = copy.LastCommandOffset,
        Members = Array.ConvertAll(copy.Members, m => new MemberSnapshot(m.UserId, m.Role, m.JoinedSeq)),
        Recent = Array.ConvertAll(copy.Recent, r => new RecentSendSnapshot(
            r.Message.ClientMsgId, r.Message.Seq, r.Message.MessageId, r.Message.Sender, r.Message.SentAt?.ToUnixTimeMilliseconds(), r.Message.Encrypted ? true : null, r.Deleted ? true : null)),
    };

    /// <summary>
    /// Decodes a snapshot. Throws <see cref="InvalidDataException"/> for anything unreadable: a chat
    /// whose state cannot be restored must not silently restart at seq 1.
    /// </summary>
    public static ChatState Decode(ReadOnlySpan<byte> utf8, int recentCapacity)
    {
        ChatStateSnapshot? snapshot;
        try
        {
            snapshot = JsonSerializer.Deserialize(utf8, RouterJsonContext.Default.ChatStateSnapshot);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException("Unreadable chat state snapshot: " + ex.Message, ex);
        }

        if (snapshot is null || snapshot.Type != ChatStateSnapshot.TypeName)
        {
            throw new InvalidDataException($"Not a chat state snapshot (type '{snapshot?.Type}').");
        }

        if (snapshot.V is < 1 or > MaxVersion)
        {
            throw new InvalidDataException($"Chat state snapshot version {snapshot.V} is not supported (max {MaxVersion}).");
        }

        var state = new ChatState(snapshot.ChatId, snapshot.Kind, snapshot.Title);
        foreach (var m in snapshot.Members)
        {
            state.AddMember(m.UserId, m.Role, m.JoinedSeq);
        }

        foreach (var r in snapshot.Recent)
        {
            var sentAt = r.At is { } ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : (DateTimeOffset?)null;
            state.Remember(new RecentMessage(r.ClientMsgId, r.Seq, r.MessageId, r.Sender, sentAt, r.Encrypted == true) { Deleted = r.Deleted == true }, recentCapacity);
        }

        state.RestoreSeq(snapshot.LastSeq);
        state.LastCommandOffset = snapshot.LastCommandOffset;
        return state;
    }
}
