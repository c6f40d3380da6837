using System.Text.Json.Serialization;
using Messaging.Contracts.Commands;

namespace Messaging.Contracts.Events;

/// <summary>
/// A fact about a chat, written by the Router to <c>chat.events</c> (key: chat id). This topic is
/// the public, versioned contract for analytics consumers (docs/events.md) and the source every
/// read model is rebuilt from. <c>(ChatId, Seq)</c> identifies an event: every consumer is
/// idempotent on it.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(ChatCreated), "ChatCreated")]
[JsonDerivedType(typeof(MessageSent), "MessageSent")]
[JsonDerivedType(typeof(MembersAdded), "MembersAdded")]
[JsonDerivedType(typeof(MemberRemoved), "MemberRemoved")]
[JsonDerivedType(typeof(MemberLeft), "MemberLeft")]
[JsonDerivedType(typeof(AdminGranted), "AdminGranted")]
[JsonDerivedType(typeof(MessagesRead), "MessagesRead")]
[JsonDerivedType(typeof(MessageEdited), "MessageEdited")]
[JsonDerivedType(typeof(MessageDeleted), "MessageDeleted")]
[JsonDerivedType(typeof(ReactionChanged), "ReactionChanged")]
public abstract record ChatEvent
{
    /// <summary>
    /// Schema version of this record. 3: no recipient list (v2 carried <c>recipientDevices</c>,
    /// every device of every member, ~45 KB per event in a 1,024-member group with 2 devices
    /// each; a v3 reader ignores that field in older records). Who receives an event follows from
    /// the chat's membership at its seq and the user's devices (docs/protocol.md, "Who gets what").
    /// </summary>
    public int V { get; init; } = SchemaVersions.ChatEvents;

    public required string ChatId { get; init; }

    /// <summary>Position in the chat: dense, increasing, shared by messages and membership changes.</summary>
    public required long Seq { get; init; }

    /// <summary>Who caused it.</summary>
    public required DeviceRef Actor { get; init; }

    public required DateTimeOffset OccurredAt { get; init; }

    /// <summary>
    /// W3C trace context of the Router span that decided the event, when its command was traced:
    /// Edge's push and the projections' apply continue the same trace. Optional; readers ignore it.
    /// Absent under <c>Kafka:TraceHeaders</c>, where a <c>traceparent</c> record header carries it.
    /// </summary>
    public string? Traceparent { get; init; }
}

public enum MemberRole
{
    Member,
    Admin,
}

public sealed record ChatMember(string UserId, MemberRole Role);

public sealed record ChatCreated : ChatEvent
{
    public required ChatKind Kind { get; init; }

    public string? Title { get; init; }

    public required IReadOnlyList<ChatMember> Members { get; init; }
}

public sealed record MessageSent : ChatEvent
{
    public required string MessageId { get; init; }

    public required string ClientMsgId { get; init; }

    public required string Body { get; init; }

    public IReadOnlyList<Attachment>? Attachments { get; init; }

    /// <summary>The message this one replies to, checked by the Router to be a message of this chat.</summary>
    public string? ReplyTo { get; init; }

    /// <summary>
    /// An end-to-end encrypted message: one base64 ciphertext per device of the chat at this seq
    /// (address → ciphertext); <see cref="Body"/> is empty. Each device is given only its own.
    /// </summary>
    public IReadOnlyDictionary<string, string>? Payloads { get; init; }
}

public sealed record MembersAdded : ChatEvent
{
    public required IReadOnlyList<string> UserIds { get; init; }
}

public sealed record MemberRemoved : ChatEvent
{
    public required string UserId { get; init; }
}

public sealed record MemberLeft : ChatEvent
{
    public required string UserId { get; init; }

    /// <summary>Set when the last admin left and the longest-standing member was promoted.</summary>
    public string? PromotedAdmin { get; init; }
}

public sealed record AdminGranted : ChatEvent
{
    public required string UserId { get; init; }
}
