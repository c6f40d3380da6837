namespace Messaging.Contracts.Events;

/// <summary>
/// A read marker: the actor's user has read the chat up to <see cref="ChatEvent.Seq"/>
/// (cumulative; the reader is <see cref="ChatEvent.Actor"/>). Unlike every other event it takes
/// <b>no seq of its own</b>: <c>seq</c> is the position it marks, at or below the chat's last
/// seq, so messages keep a dense sequence and no member sees a gap for someone else's reading.
/// Its identity is <c>(chatId, actor.userId, seq)</c>; applying it is a maximum, so duplicates
/// and re-orderings are harmless. Delivered only to the reader's own devices (as
/// <c>read.marker</c>); the senders hear of it through aggregated <c>receipt</c> pushes.
/// </summary>
public sealed record MessagesRead : ChatEvent
{
    /// <summary>Made while the reader had read receipts off (<see cref="Commands.MarkRead.Private"/>): never counted as read for others. Absent otherwise.</summary>
    public bool? Private { get; init; }
}
