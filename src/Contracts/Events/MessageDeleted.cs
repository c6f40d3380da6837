namespace Messaging.Contracts.Events;

/// <summary>
/// A message was deleted for everyone (by its sender, or by a group admin: the actor). Read
/// models keep a tombstone at <see cref="MessageSeq"/>: the body, payloads, attachments and
/// reactions of the message and the text of its edits are gone from them.
/// </summary>
public sealed record MessageDeleted : ChatEvent
{
    public required string MessageId { get; init; }

    public required long MessageSeq { get; init; }
}
