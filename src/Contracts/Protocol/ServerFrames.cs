using System.Text.Json.Serialization;
using Messaging.Contracts.Commands;

namespace Messaging.Contracts.Protocol;

/// <summary>
/// A frame the server sends over the WebSocket (protocol v1, docs/protocol.md). Replies always
/// carry <c>id</c> (null when the request had none): positional records need every constructor
/// parameter present to decode.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(ChatCreatedFrame), "chat.created")]
[JsonDerivedType(typeof(MessageAcceptedFrame), "message.accepted")]
[JsonDerivedType(typeof(AcceptedFrame), "accepted")]
[JsonDerivedType(typeof(MessageFrame), "message")]
[JsonDerivedType(typeof(ChatUpdatedFrame), "chat.updated")]
[JsonDerivedType(typeof(SyncDoneFrame), "sync.done")]
[JsonDerivedType(typeof(HistoryPageFrame), "history.page")]
[JsonDerivedType(typeof(MediaUploadUrlFrame), "media.upload.url")]
[JsonDerivedType(typeof(ErrorFrame), "error")]
[JsonDerivedType(typeof(PongFrame), "pong")]
[JsonDerivedType(typeof(PresenceFrame), "presence")]
[JsonDerivedType(typeof(PresenceChangedFrame), "presence.changed")]
[JsonDerivedType(typeof(ReceiptFrame), "receipt")]
[JsonDerivedType(typeof(TypingPushFrame), "typing")]
[JsonDerivedType(typeof(ReadMarkerFrame), "read.marker")]
[JsonDerivedType(typeof(SettingsFrame), "settings")]
[JsonDerivedType(typeof(MessageEditedFrame), "message.edited")]
[JsonDerivedType(typeof(MessageDeletedFrame), "message.deleted")]
[JsonDerivedType(typeof(ReactionFrame), "reaction")]
public abstract record ServerFrame;

public sealed record ChatCreatedFrame([property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Id, string ChatId) : ServerFrame;

/// <summary>The send is durable in the log. <see cref="Seq"/> is set when already known (a de-duplicated retry).</summary>
public sealed record MessageAcceptedFrame : ServerFrame
{
    public string? Id { get; init; }

    public required string ClientMsgId { get; init; }

    public required string ChatId { get; init; }

    public required string MessageId { get; init; }

    public long? Seq { get; init; }
}

/// <summary>A membership or device request is durable in the log; its outcome arrives as <c>chat.updated</c> or <c>error</c>.</summary>
public sealed record AcceptedFrame([property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Id) : ServerFrame;

public sealed record MessageFrame : ServerFrame
{
    public required string ChatId { get; init; }

    public required long Seq { get; init; }

    public required string MessageId { get; init; }

    public required string ClientMsgId { get; init; }

    public required DeviceRef Sender { get; init; }

    public required string Body { get; init; }

    public required DateTimeOffset SentAt { get; init; }

    public IReadOnlyList<Attachment>? Attachments { get; init; }

    /// <summary>The id of the message this one replies to.</summary>
    public string? ReplyTo { get; init; }

    /// <summary>An encrypted message: this device's own ciphertext (base64); <see cref="Body"/> is empty.</summary>
    public string? Payload { get; init; }

    /// <summary>History and sync: when the text was last edited (the body is the latest).</summary>
    public DateTimeOffset? EditedAt { get; init; }

    /// <summary>History and sync: set on a tombstone (deleted for everyone): no body, payload, attachments or reactions.</summary>
    public DateTimeOffset? DeletedAt { get; init; }

    /// <summary>History and sync: the members' current reactions, in user id order.</summary>
    public IReadOnlyList<MessageReaction>? Reactions { get; init; }

    /// <summary>
    /// Live pushes only, when the node's <c>Edge:HopTimestamps</c> is on: when Edge accepted the
    /// send (before the Router decided it at <see cref="SentAt"/>). For the per-hop latency breakdown.
    /// </summary>
    public DateTimeOffset? AcceptedAt { get; init; }

    /// <summary>Live pushes only, with <c>Edge:HopTimestamps</c>: when the receiving Edge node queued this frame for the socket.</summary>
    public DateTimeOffset? PushedAt { get; init; }

    /// <summary>History only, on the caller's own messages: how many other members hold it (any of their devices acked it).</summary>
    public int? DeliveredCount { get; init; }

    /// <summary>History only, on the caller's own messages, when the caller has read receipts on: how many other members (with read receipts on) read it.</summary>
    public int? ReadCount { get; init; }
}

/// <summary>A membership change shown in the chat ("Ana added Bo"); it has a seq like a message.</summary>
public sealed record ChatUpdatedFrame : ServerFrame
{
    public required string ChatId { get; init; }

    public required long Seq { get; init; }

    /// <summary>created, members.added, member.removed, member.left, admin.granted.</summary>
    public required string Change { get; init; }

    public required DeviceRef Actor { get; init; }

    public IReadOnlyList<string>? UserIds { get; init; }

    public string? Title { get; init; }

    public required DateTimeOffset At { get; init; }
}

/// <summary>
/// The end of a sync. <see cref="Partial"/> is true when the read models a sync reads had not applied
/// every event that existed when the sync began within <c>Edge:SyncCatchUpMs</c>: the stream
/// may lack recent events, so the client should sync again shortly. Absent otherwise.
/// </summary>
public sealed record SyncDoneFrame([property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Id, int Count, bool? Partial = null) : ServerFrame;

public sealed record HistoryPageFrame : ServerFrame
{
    public string? Id { get; init; }

    public required string ChatId { get; init; }

    public required IReadOnlyList<MessageFrame> Messages { get; init; }

    public required bool HasMore { get; init; }

    /// <summary>The caller's own read marker in the chat (the highest seq any of their devices sent <c>read</c> for); absent when none.</summary>
    public long? ReadSeq { get; init; }
}

public sealed record MediaUploadUrlFrame : ServerFrame
{
    public string? Id { get; init; }

    public required string Key { get; init; }

    public required string UploadUrl { get; init; }

    public required DateTimeOffset ExpiresAt { get; init; }
}

/// <summary>
/// A refused request. <see cref="RetryAfterMs"/> is set with <c>rate_limited</c>: how long until the
/// refused request would be accepted; the connection stays open.
/// </summary>
/// <see cref="Devices"/> is set with <c>device_list_changed</c>: the chat's current devices (addresses) to encrypt for.
public sealed record ErrorFrame([property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Id, string Code, string Message, long? RetryAfterMs = null, IReadOnlyList<string>? Devices = null) : ServerFrame;

public sealed record PongFrame([property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Id) : ServerFrame;

/// <summary>Reply to <c>presence.get</c> / <c>presence.watch</c> (and the body of <c>GET /v1/presence</c>): one entry per requested user.</summary>
public sealed record PresenceFrame : ServerFrame
{
    public string? Id { get; init; }

    public required IReadOnlyList<UserPresence> Users { get; init; }
}

/// <summary>
/// A user's presence: online while at least one device holds a live session.
/// <see cref="LastSeen"/> is set only while offline (the latest session change of any device).
/// </summary>
public sealed record UserPresence
{
    public required string UserId { get; init; }

    public required bool Online { get; init; }

    public DateTimeOffset? LastSeen { get; init; }

    public required int DevicesOnline { get; init; }
}

/// <summary>Pushed to watchers when a watched user goes online (first device) or offline (last device, or its lease ran out).</summary>
public sealed record PresenceChangedFrame : ServerFrame
{
    public required string UserId { get; init; }

    public required bool Online { get; init; }

    public DateTimeOffset? LastSeen { get; init; }
}
