using Messaging.Contracts.Protocol;
using Messaging.ReadModels.Chats;

namespace Messaging.Edge.Conversation;

/// <summary>A user's progress a node has gathered but not sent yet (the highest per chat, user and state).</summary>
internal readonly record struct PendingReceipt(string ChatId, string UserId, string State, long Seq, DateTimeOffset At, int Attempts = 0);

/// <summary>One chat's receipts of one state in a flush: every user whose progress moved, for the devices of every sender in the chat's span.</summary>
internal sealed record ChatReceipts(IReadOnlyList<string> Senders, List<UserReceipt> Receipts);

/// <summary>What one flush sends, remembers and keeps for the next flush.</summary>
internal sealed class ReceiptPlan
{
    /// <summary>Per (chat, state): the users' receipts and the senders whose devices get them, in one record per Edge node.</summary>
    public Dictionary<(string ChatId, string State), ChatReceipts> Pushes { get; } = [];

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
    /// One span per chat covering every range of the flush (the lowest from, the highest to), and
    /// for each range the index of its chat's span: the read models are asked once per chat, not
    /// once per user (the users of a chat ack the same recent seqs, so their ranges overlap
    /// almost entirely). The span excludes no user (<see cref="ReceiptRange.UserId"/> is empty).
    /// </summary>
    public static List<ReceiptRange> Spans(IReadOnlyList<ReceiptRange> ranges, int[] spanOf)
    {
        var spans = new List<ReceiptRange>();
        var byChat = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < ranges.Count; i++)
        {
            var range = ranges[i];
            if (byChat.TryGetValue(range.ChatId, out var k))
            {
                var span = spans[k];
                spans[k] = span with { FromSeq = Math.Min(span.FromSeq, range.FromSeq), ToSeq = Math.Max(span.ToSeq, range.ToSeq) };
            }
            else
            {
                byChat[range.ChatId] = k = spans.Count;
                spans.Add(range with { UserId = string.Empty });
            }

            spanOf[i] = k;
        }

        return spans;
    }

    /// <summary>
    /// Turns pending receipts, their ranges and what the read models know of their chats' spans
    /// (<paramref name="targets"/>[<paramref name="spanOf"/>[i]]) into the pushes of this flush:
    /// per chat and state one list of every user's progress for every sender in the span. A
    /// sender whose messages lie outside a user's own range gets that user's receipt too: it is
    /// cumulative and true ("up to seq S"), and so a chat costs one record per node instead of
    /// one per sender (docs/benchmarks.md, "Receipts per chat"). A sender's own receipt is taken
    /// out for its devices by the node that pushes it (<c>ReceiptFrameTranscoder.Frame</c>).
    /// A range the read models have projected only in part is sent up to what they hold
    /// and the rest retried (at most <paramref name="maxRetries"/> flushes): otherwise an ack
    /// that overtook the projection of its message would find no sender and never be sent. Read
    /// receipts go only to senders who see read receipts (<paramref name="showsReads"/>), and
    /// only for users who show theirs.
    /// </summary>
    public static ReceiptPlan Plan(
        IReadOnlyList<PendingReceipt> pending,
        IReadOnlyList<ReceiptRange> ranges,
        int[] spanOf,
        IReadOnlyList<ReceiptTargets> targets,
        Func<string, bool> showsReads,
        int maxRetries)
    {
        var plan = new ReceiptPlan();
        for (var i = 0; i < pending.Count; i++)
        {
            var p = pending[i];
            var range = ranges[i];
            var target = targets[spanOf[i]];
            var upTo = Math.Min(range.ToSeq, target.ProjectedLastSeq);
            if (upTo < range.ToSeq)
            {
                AddRetry(plan.Retry, p, maxRetries);
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

            var key = (p.ChatId, p.State);
            if (!plan.Pushes.TryGetValue(key, out var push))
            {
                plan.Pushes[key] = push = new ChatReceipts(reads ? SendersShowingReads(target.Senders, showsReads) : target.Senders, []);
            }

            push.Receipts.Add(new UserReceipt(p.UserId, upTo, p.At));
        }

        DropOwnOnly(plan.Pushes);
        return plan;
    }

    /// <summary>
    /// Whether a push of <paramref name="plan"/> names a sender with no device online as far as
    /// this node has read (<paramref name="online"/>): its receipt would be routed to nobody and,
    /// marked sent, never sent again, so the node first catches up on <c>device.sessions</c>
    /// (a sender who connected to another node a moment ago is not in its table yet).
    /// </summary>
    public static bool AnySenderOffline(ReceiptPlan plan, Func<string, bool> online)
    {
        foreach (var push in plan.Pushes.Values)
        {
            for (var s = 0; s < push.Senders.Count; s++)
            {
                if (!online(push.Senders[s]))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>
    /// The receipts of a flush that could not be routed safely (this node's <c>device.sessions</c>
    /// table did not catch up), for the next flush: each one attempt older, and those that had
    /// <paramref name="maxRetries"/> attempts dropped (receipts are a courtesy over the counts in history).
    /// </summary>
    public static List<PendingReceipt> Postponed(IReadOnlyList<PendingReceipt> work, int maxRetries)
    {
        var again = new List<PendingReceipt>(work.Count);
        for (var i = 0; i < work.Count; i++)
        {
            AddRetry(again, work[i], maxRetries);
        }

        return again;
    }

    /// <summary>The one retry rule: a receipt goes again one attempt older, until it had <paramref name="maxRetries"/>.</summary>
    private static void AddRetry(List<PendingReceipt> retries, PendingReceipt receipt, int maxRetries)
    {
        if (receipt.Attempts < maxRetries)
        {
            retries.Add(receipt with { Attempts = receipt.Attempts + 1 });
        }
    }

    private static List<string> SendersShowingReads(IReadOnlyList<string> senders, Func<string, bool> showsReads)
    {
        var shown = new List<string>(senders.Count);
        for (var s = 0; s < senders.Count; s++)
        {
            if (showsReads(senders[s]))
            {
                shown.Add(senders[s]);
            }
        }

        return shown;
    }

    /// <summary>A push no device would get anything from: no sender, or one user's receipt for that user's own devices.</summary>
    private static void DropOwnOnly(Dictionary<(string ChatId, string State), ChatReceipts> pushes)
    {
        List<(string, string)>? empty = null;
        foreach (var (key, push) in pushes)
        {
            var nobody = push.Senders.Count == 0
                || (push.Receipts.Count == 1 && push.Senders.Count == 1 && string.Equals(push.Senders[0], push.Receipts[0].UserId, StringComparison.Ordinal));
            if (nobody)
            {
                (empty ??= []).Add(key);
            }
        }

        if (empty is null)
        {
            return;
        }

        foreach (var key in empty)
        {
            pushes.Remove(key);
        }
    }
}
