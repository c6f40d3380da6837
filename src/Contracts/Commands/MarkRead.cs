namespace Messaging.Contracts.Commands;

/// <summary>
/// The origin's user has read the chat up to <see cref="Seq"/> (cumulative, like an ack), from
/// a client's <c>read</c> frame. Becomes a <see cref="Events.MessagesRead"/> read marker.
/// </summary>
public sealed record MarkRead : ChatCommand
{
    public required long Seq { get; init; }

    /// <summary>
    /// True when the user had read receipts off (<c>settings.set</c>): the marker still moves
    /// the user's own read position (other devices, unread counts) but is never shown to others,
    /// also not after the user turns receipts on again. Absent otherwise.
    /// </summary>
    public bool? Private { get; init; }
}
