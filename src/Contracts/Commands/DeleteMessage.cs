namespace Messaging.Contracts.Commands;

/// <summary>
/// Delete a message for everyone: by its sender within <c>Chat:DeleteWindowHours</c>, or by an
/// admin of a group at any time. The chat keeps a tombstone in its place.
/// </summary>
public sealed record DeleteMessage : ChatCommand
{
    public required string MessageId { get; init; }
}
