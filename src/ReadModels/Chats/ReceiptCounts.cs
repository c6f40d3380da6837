namespace Messaging.ReadModels.Chats;

/// <summary>
/// Per-message delivered/read counts for its sender, from where each member stands (pure,
/// unit-tested). A member counts for a message when they were a member at its seq (joined at or
/// before it, not left before it) and are not its sender. Delivered: any of their devices acked
/// it (the first device counts the user) or they read it (reading implies holding it). Read:
/// a marker they made with read receipts on covers it (<see cref="MemberPosition.SharedReadSeq"/>:
/// reads made while receipts were off stay hidden after receipts are on again), and the member
/// does not have read receipts off now.
/// </summary>
public static class ReceiptCounts
{
    public static (int Delivered, int Read) Count(IReadOnlyList<MemberPosition> members, long seq, string senderUserId, Func<string, bool> showsReads)
    {
        int delivered = 0, read = 0;
        for (var i = 0; i < members.Count; i++)
        {
            var m = members[i];
            if (string.Equals(m.UserId, senderUserId, StringComparison.Ordinal) || m.JoinedSeq > seq || m.LeftSeq < seq)
            {
                continue;
            }

            var hasRead = m.ReadSeq >= seq;
            if (hasRead || m.DeliveredSeq >= seq)
            {
                delivered++;
            }

            if (m.SharedReadSeq >= seq && showsReads(m.UserId))
            {
                read++;
            }
        }

        return (delivered, read);
    }
}
