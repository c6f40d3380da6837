using System.ComponentModel.DataAnnotations;

namespace Messaging.Edge.Conversation;

/// <summary>Receipts and typing (section <c>Conversation</c>; docs/protocol.md, "Receipts and typing").</summary>
public sealed class ConversationOptions
{
    public const string Section = "Conversation";

    /// <summary>
    /// How often a node sends the receipts it gathered: one <c>receipt</c> per chat, state and
    /// sender device per interval, however many members acked or read in it. Half a second is
    /// below what a person notices on a tick and turns the 299 acks of a 300-member group into
    /// one push per sender device and node.
    /// </summary>
    [Range(10, 60_000)]
    public int ReceiptFlushMs { get; set; } = 500;

    /// <summary>
    /// The widest range one receipt looks for senders in when the node does not know what it
    /// sent before for that user (after a start): older senders already had their receipts.
    /// </summary>
    [Range(1, 1_000_000)]
    public int ReceiptMaxRangeSeqs { get; set; } = 1000;

    /// <summary>Receipt positions remembered per node ((chat, user, state) → last seq sent); beyond it they are forgotten and the range above applies.</summary>
    [Range(1, 100_000_000)]
    public int ReceiptTrackedPositions { get; set; } = 1_000_000;

    /// <summary>
    /// A receipt for seqs the read models have not projected yet is retried at the next flushes,
    /// at most this many times (the read models are behind; the counts in history catch up anyway).
    /// 120 flushes of 500 ms = 60 s: with 20 (10 s) a fresh-clone CI run under load, its chat
    /// projection behind by more than that, dropped every receipt of a read and the sender saw none.
    /// </summary>
    [Range(0, 10_000)]
    public int ReceiptRetries { get; set; } = 120;

    /// <summary>
    /// How long a flush waits for this node's <c>device.sessions</c> table to catch up when a
    /// sender it routes receipts to has no online device in it: a sender who connected to another
    /// node a moment ago may not be read here yet, and a receipt routed to nobody is never sent
    /// again. The wait ends as soon as the table reached the topic's end (one watermark query when
    /// it is not behind); only flushes with such a sender pay it.
    /// </summary>
    [Range(0, 60_000)]
    public int PresenceCatchUpMs { get; set; } = 2000;

    /// <summary>A <c>typing started</c> not renewed within this many milliseconds means stopped (sent to clients as <c>expiresInMs</c>).</summary>
    [Range(1000, 60_000)]
    public int TypingExpiryMs { get; set; } = 5000;

    /// <summary>How long a node reuses a chat's member list for typing before asking the read models again.</summary>
    [Range(0, 60_000)]
    public int TypingMembersCacheMs { get; set; } = 5000;

    /// <summary>Chats whose member lists a node keeps for typing (the cache is cleared beyond it).</summary>
    [Range(1, 10_000_000)]
    public int TypingCachedChats { get; set; } = 100_000;
}
