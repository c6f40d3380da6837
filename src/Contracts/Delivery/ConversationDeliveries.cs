using Messaging.Contracts.Protocol;

namespace Messaging.Contracts.Delivery;

/// <summary>
/// Receipts for the listed devices (the senders' devices on this node): <see cref="Receipts"/>
/// users delivered or read <see cref="ChatId"/> up to their seq. Written by the Edge node that
/// received the acks and reads, coalesced per chat and interval (docs/router.md, "Receipts").
/// </summary>
public sealed record ReceiptsRouted : NodeDelivery
{
    public required string ChatId { get; init; }

    /// <summary><see cref="ConversationStates.Delivered"/> or <see cref="ConversationStates.Read"/>.</summary>
    public required string State { get; init; }

    public required IReadOnlyList<UserReceipt> Receipts { get; init; }
}

/// <summary>A member's typing state for the listed devices (the other members' devices on this node). Never stored anywhere else.</summary>
public sealed record TypingRouted : NodeDelivery
{
    public required string ChatId { get; init; }

    public required string UserId { get; init; }

    public required string State { get; init; }

    public required int ExpiresInMs { get; init; }
}
