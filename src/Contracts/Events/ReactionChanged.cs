namespace Messaging.Contracts.Events;

/// <summary>
/// The actor's one reaction to a message is now <see cref="Emoji"/> (it replaces an earlier one;
/// null removes it).
/// </summary>
public sealed record ReactionChanged : ChatEvent
{
    public required string MessageId { get; init; }

    public required long MessageSeq { get; init; }

    public string? Emoji { get; init; }
}
