namespace Messaging.ReadModels.Inbox;

/// <summary>A user's membership of a chat as <c>chat_members</c> holds it: the seqs from joining to leaving, both included.</summary>
/// <param name="JoinedSeq">The event that made the user a member (ChatCreated or MembersAdded).</param>
/// <param name="LeftSeq">The event that ended it (MemberRemoved or MemberLeft: it still reaches the user), null while a member.</param>
public readonly record struct MembershipRange(long JoinedSeq, long? LeftSeq)
{
    public bool Contains(long seq) => seq >= JoinedSeq && (LeftSeq is not { } left || seq <= left);
}

/// <summary>One event of a chat as the rules see it.</summary>
public readonly record struct ChatEventFacts(long Seq, DateTimeOffset OccurredAt, bool IsMessage, string SenderUserId);

/// <summary>
/// Who gets what (docs/protocol.md): the pure statement of the rules the inbox queries run in
/// SQL (<see cref="InboxQueries"/>), tested alone and against the queries. There are no per-device
/// rows per message: a device's pending events follow from the chat's history, the user's
/// membership, the device's cursor (the highest seq it acknowledged in the chat) and where its
/// share begins, so a message costs the same in a group of 1,024 as in a group of 2.
/// </summary>
public static class InboxRules
{
    /// <summary>
    /// An event is pending for a device when it lies in the user's membership range, after the
    /// device's cursor, and, for a companion device (<paramref name="historyFrom"/> set: registered
    /// while another device of the user was), at or after its registration. A user's first device
    /// (<paramref name="historyFrom"/> null) gets everything since the user joined. Retention
    /// bounds it from below: expired events are no longer in the history at all.
    /// </summary>
    public static bool IsPending(in ChatEventFacts e, MembershipRange membership, long cursor, DateTimeOffset? historyFrom) =>
        membership.Contains(e.Seq) && e.Seq > cursor && (historyFrom is not { } from || e.OccurredAt >= from);

    /// <summary>
    /// Unread: the pending messages of other members. The user's own messages (sent from any of
    /// their devices) and membership changes are pending (the device still receives them) but not unread.
    /// </summary>
    public static bool IsUnread(in ChatEventFacts e, string userId, MembershipRange membership, long cursor, DateTimeOffset? historyFrom) =>
        e.IsMessage && !string.Equals(e.SenderUserId, userId, StringComparison.Ordinal) && IsPending(e, membership, cursor, historyFrom);

    /// <summary>A cursor only moves forward: an older or repeated ack (a retry, a second device's late ack, a replay) changes nothing.</summary>
    public static long Advance(long cursor, long ackedSeq) => Math.Max(cursor, ackedSeq);
}
