namespace Messaging.Contracts.Commands;

/// <summary>Set (or with a null <see cref="Emoji"/> remove) the origin user's one reaction to a message.</summary>
public sealed record ReactToMessage : ChatCommand
{
    public required string MessageId { get; init; }

    public string? Emoji { get; init; }

    /// <summary>The read side's facts about the message, for one older than the Router's recent index (Edge fills it when the client gave the message's seq).</summary>
    public MessageFacts? Target { get; init; }
}
