using System.Text.Json.Serialization;
using Messaging.Contracts.Commands;

namespace Messaging.Contracts.Protocol;

/// <summary>
/// A frame a client sends over the WebSocket (protocol v1, JSON text frames, docs/protocol.md).
/// Requests carry an <see cref="Id"/> that the reply echoes.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(CreateChatFrame), "chat.create")]
[JsonDerivedType(typeof(SendMessageFrame), "message.send")]
[JsonDerivedType(typeof(AckFrame), "ack")]
[JsonDerivedType(typeof(SyncFrame), "sync")]
[JsonDerivedType(typeof(HistoryFrame), "history")]
[JsonDerivedType(typeof(AddMembersFrame), "members.add")]
[JsonDerivedType(typeof(RemoveMemberFrame), "members.remove")]
[JsonDerivedType(typeof(LeaveChatFrame), "chat.leave")]
[JsonDerivedType(typeof(GrantAdminFrame), "admin.grant")]
[JsonDerivedType(typeof(RemoveDeviceFrame), "device.remove")]
[JsonDerivedType(typeof(UploadMediaFrame), "media.upload")]
[JsonDerivedType(typeof(PingFrame), "ping")]
[JsonDerivedType(typeof(GetPresenceFrame), "presence.get")]
[JsonDerivedType(typeof(WatchPresenceFrame), "presence.watch")]
[JsonDerivedType(typeof(UnwatchPresenceFrame), "presence.unwatch")]
[JsonDerivedType(typeof(ReadFrame), "read")]
[JsonDerivedType(typeof(TypingFrame), "typing")]
[JsonDerivedType(typeof(SetSettingsFrame), "settings.set")]
[JsonDerivedType(typeof(EditMessageFrame), "message.edit")]
[JsonDerivedType(typeof(DeleteMessageFrame), "message.delete")]
[JsonDerivedType(typeof(ReactFrame), "message.react")]
public abstract record ClientFrame
{
    public string? Id { get; init; }
}

public sealed record CreateChatFrame : ClientFrame
{
    public required IReadOnlyList<string> Members { get; init; }

    public string? Title { get; init; }
}

/// <summary>Send to an existing chat (<see cref="ChatId"/>) or open a direct chat (<see cref="ToUserId"/>).</summary>
public sealed record SendMessageFrame : ClientFrame
{
    public string? ChatId { get; init; }

    public string? ToUserId { get; init; }

    public required string ClientMsgId { get; init; }

    /// <summary>
    /// The text; absent (or empty) with <see cref="Payloads"/> or for an attachment-only message.
    /// Nullable rather than defaulted: the source-generated reader sets an init-only property it
    /// did not find to null, whatever its initializer says (a frame without <c>body</c> crashed the check).
    /// </summary>
    public string? Body { get; init; }

    public IReadOnlyList<Attachment>? Attachments { get; init; }

    /// <summary>The id of the message (of the same chat) this one replies to.</summary>
    public string? ReplyTo { get; init; }

    /// <summary>The seq of <see cref="ReplyTo"/>, optional: lets a reply quote a message older than the Router's recent-message index (see <see cref="DeleteMessageFrame.MessageSeq"/>).</summary>
    public long? ReplyToSeq { get; init; }

    /// <summary>End-to-end encrypted content instead of <see cref="Body"/>: base64 ciphertext per device address <c>userId/deviceId</c>.</summary>
    public IReadOnlyDictionary<string, string>? Payloads { get; init; }
}

/// <summary>Cumulative: this device holds everything in the chat up to <see cref="Seq"/>.</summary>
public sealed record AckFrame : ClientFrame
{
    public required string ChatId { get; init; }

    public required long Seq { get; init; }
}

public sealed record SyncFrame : ClientFrame
{
    public int? Limit { get; init; }
}

public sealed record HistoryFrame : ClientFrame
{
    public required string ChatId { get; init; }

    public long? BeforeSeq { get; init; }

    public int? Limit { get; init; }
}

public sealed record AddMembersFrame : ClientFrame
{
    public required string ChatId { get; init; }

    public required IReadOnlyList<string> UserIds { get; init; }
}

public sealed record RemoveMemberFrame : ClientFrame
{
    public required string ChatId { get; init; }

    public required string UserId { get; init; }
}

public sealed record LeaveChatFrame : ClientFrame
{
    public required string ChatId { get; init; }
}

public sealed record GrantAdminFrame : ClientFrame
{
    public required string ChatId { get; init; }

    public required string UserId { get; init; }
}

public sealed record RemoveDeviceFrame : ClientFrame
{
    public required string DeviceId { get; init; }
}

public sealed record UploadMediaFrame : ClientFrame
{
    public required string ContentType { get; init; }

    public required long Size { get; init; }

    public string? FileName { get; init; }
}

public sealed record PingFrame : ClientFrame;

/// <summary>Asks once whether <see cref="UserIds"/> are online (users the caller shares a chat with).</summary>
public sealed record GetPresenceFrame : ClientFrame
{
    public required IReadOnlyList<string> UserIds { get; init; }
}

/// <summary>Replies with a <c>presence</c> snapshot, then pushes <c>presence.changed</c> for these users until unwatched or disconnected.</summary>
public sealed record WatchPresenceFrame : ClientFrame
{
    public required IReadOnlyList<string> UserIds { get; init; }
}

public sealed record UnwatchPresenceFrame : ClientFrame
{
    public required IReadOnlyList<string> UserIds { get; init; }
}
