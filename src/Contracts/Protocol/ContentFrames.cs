namespace Messaging.Contracts.Protocol;

/// <summary>Edit a message the caller sent (within <c>Chat:EditWindowMinutes</c>): a new <see cref="Body"/>, or new <see cref="Payloads"/> for an encrypted one.</summary>
public sealed record EditMessageFrame : ClientFrame
{
    public required string ChatId { get; init; }

    public required string MessageId { get; init; }

    /// <summary>Absent for an encrypted message's edit (see <see cref="SendMessageFrame.Body"/>).</summary>
    public string? Body { get; init; }

    public IReadOnlyDictionary<string, string>? Payloads { get; init; }

    /// <summary>
    /// The message's seq, optional: with it Edge looks the message up in the read model, so a
    /// message older than the Router's recent-message index can still be edited (a chat with more than that many messages in the edit window).
    /// </summary>
    public long? MessageSeq { get; init; }
}

/// <summary>Delete a message for everyone: the sender within <c>Chat:DeleteWindowHours</c>, a group admin at any time.</summary>
public sealed record DeleteMessageFrame : ClientFrame
{
    public required string ChatId { get; init; }

    public required string MessageId { get; init; }

    /// <summary>
    /// The message's seq, optional: with it Edge looks the message up in the read model, so a
    /// message older than the Router's recent-message index can still be deleted by a group admin.
    /// </summary>
    public long? MessageSeq { get; init; }
}

/// <summary>Set the caller's one reaction to a message; a null <see cref="Emoji"/> removes it.</summary>
public sealed record ReactFrame : ClientFrame
{
    public required string ChatId { get; init; }

    public required string MessageId { get; init; }

    public string? Emoji { get; init; }

    /// <summary>
    /// The message's seq, optional: with it Edge looks the message up in the read model, so a
    /// message older than the Router's recent-message index can still be reacted to.
    /// </summary>
    public long? MessageSeq { get; init; }
}

/// <summary>One member's reaction to a message, as history shows it.</summary>
public sealed record MessageReaction(string UserId, string Emoji);

/// <summary>
/// A message's text changed (<see cref="Body"/>, or this device's <see cref="Payload"/> of an
/// encrypted one). <see cref="MessageSeq"/> is the edited message's seq. In a sync after the
/// message was deleted, the body is empty.
/// </summary>
public sealed record MessageEditedFrame : ServerFrame
{
    public required string ChatId { get; init; }

    public required long Seq { get; init; }

    public required string MessageId { get; init; }

    public required long MessageSeq { get; init; }

    public required DeviceRef Actor { get; init; }

    public required string Body { get; init; }

    public string? Payload { get; init; }

    public required DateTimeOffset EditedAt { get; init; }
}

/// <summary>A message was deleted for everyone: show a tombstone at <see cref="MessageSeq"/>.</summary>
public sealed record MessageDeletedFrame : ServerFrame
{
    public required string ChatId { get; init; }

    public required long Seq { get; init; }

    public required string MessageId { get; init; }

    public required long MessageSeq { get; init; }

    public required DeviceRef Actor { get; init; }

    public required DateTimeOffset DeletedAt { get; init; }
}

/// <summary><see cref="Actor"/>'s reaction to the message is now <see cref="Emoji"/> (absent: removed).</summary>
public sealed record ReactionFrame : ServerFrame
{
    public required string ChatId { get; init; }

    public required long Seq { get; init; }

    public required string MessageId { get; init; }

    public required long MessageSeq { get; init; }

    public required DeviceRef Actor { get; init; }

    public string? Emoji { get; init; }

    public required DateTimeOffset At { get; init; }
}
