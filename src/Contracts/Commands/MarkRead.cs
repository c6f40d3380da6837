namespace Messaging.Contracts.Commands;

/// <summary>
/// The origin's user has read the chat up to <see cref="Seq"/> (cumulative, like an ack), from
/// a client's <c>read</c> frame. Becomes a <see cref="Events.MessagesRead"/> read marker.
/// </summary>
public sealed record MarkRead : ChatCommand
{
    public required long Seq { get; init; }
}
