namespace Messaging.Contracts.Commands;

/// <summary>
/// Delete a message for everyone: by its sender within <c>Chat:DeleteWindowHours</c>, or by an
/// admin of a group at any time. The chat keeps a tombstone in its place.
/// </summary>
public sealed record DeleteMessage : ChatCommand
{
    public required string MessageId { get; init; }

    /// <summary>The read side's facts about the message, for one older than the Router's recent index (Edge fills it when the client gave the message's seq).</summary>
    public MessageFacts? Target { get; init; }
}
