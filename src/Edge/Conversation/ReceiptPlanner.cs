using Messaging.Contracts.Protocol;
using Messaging.ReadModels.Chats;

namespace Messaging.Edge.Conversation;

/// <summary>A user's progress a node has gathered but not sent yet (the highest per chat, user and state).</summary>
internal readonly record struct PendingReceipt(string ChatId, string UserId, string State, long Seq, DateTimeOffset At, int Attempts = 0);

/// <summary>What one flush sends, remembers and keeps for the next flush.</summary>
internal sealed class ReceiptPlan
{
    /// <summary>Per (chat, state, sender): the users' receipts that sender's devices get in one frame.</summary>
    public Dictionary<(string ChatId, string State, string Sender), List<UserReceipt>> Pushes { get; } = [];

    /// <summary>The new "sent up to" per (chat, user, state).</summary>
    public List<((string ChatId, string UserId, string State) Key, long Seq)> Sent { get; } = [];

    /// <summary>Progress the read models had not projected yet: tried again at the next flush.</summary>
    public List<PendingReceipt> Retry { get; } = [];
}

/// <summary>
/// The pure decisions of a receipt flush (unit-tested). A receipt is cumulative: "user U has
/// delivered (read) the chat up to seq S", so it is sent to the senders of messages in
/// <c>(what U's receipt last covered, S]</c>, U excluded, once per interval however many of U's
/// devices acked; the client keeps the highest seq per user and counts users, not frames.
/// </summary>
internal static class ReceiptPlanner
{
    /// <summary>
    /// The range each pending receipt covers: from what was last sent for it (or, when this node
    /// does not know, <paramref name="maxRange"/> seqs back) to its seq. Null when there is nothing
    /// new (an ack below what was already sent).
    /// </summary>
    public static ReceiptRange? Range(in PendingReceipt pending, long? lastSent, int maxRange)
    {
        var from = lastSent ?? Math.Max(0, pending.Seq - maxRange);
        return pending.Seq > from ? new ReceiptRange(pending.ChatId, pending.UserId, from, pending.Seq) : null;
    }

    /// <summary>
    /// Turns pending receipts, their ranges and what the read models know into the pushes of this
    /// flush. A range the read models have projected only in part is sent up to what they hold
    /// and the rest retried (at most <paramref name="maxRetries"/> flushes): otherwise an ack
    /// that overtook the projection of its message would find no sender and never be sent. Read
    /// receipts go only to senders who see read receipts (<paramref name="showsReads"/>), and
    /// only for users who show theirs.
    /// </summary>
    public static ReceiptPlan Plan(
        IReadOnlyList<PendingReceipt> pending,
        IReadOnlyList<ReceiptRange> ranges,
        IReadOnlyList<ReceiptTargets> targets,
        Func<string, bool> showsReads,
        int maxRetries)
    {
        var plan = new ReceiptPlan();
        for (var i = 0; i < pending.Count; i++)
        {
            var p = pending[i];
            var range = ranges[i];
            var target = targets[i];
            var upTo = Math.Min(range.ToSeq, target.ProjectedLastSeq);
            if (upTo < range.ToSeq && p.Attempts < maxRetries)
            {
                plan.Retry.Add(p with { Attempts = p.Attempts + 1 });
            }

            if (upTo <= range.FromSeq)
            {
                continue;
            }

            plan.Sent.Add(((p.ChatId, p.UserId, p.State), upTo));
            var reads = p.State == ConversationStates.Read;
            if (reads && !showsReads(p.UserId))
            {
                continue;
            }

            for (var s = 0; s < target.Senders.Count; s++)
            {
                var sender = target.Senders[s];
                if (reads && !showsReads(sender))
                {
                    continue;
                }

                var key = (p.ChatId, p.State, sender);
                if (!plan.Pushes.TryGetValue(key, out var list))
                {
                    plan.Pushes[key] = list = [];
                }

                list.Add(new UserReceipt(p.UserId, upTo, p.At));
            }
        }

        return plan;
    }
}
