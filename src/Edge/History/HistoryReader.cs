using Messaging.Contracts;
using Messaging.Contracts.Protocol;
using Messaging.Edge.Conversation;
using Messaging.Edge.Sync;
using Messaging.ReadModels.Chats;

namespace Messaging.Edge.History;

/// <summary>
/// Chat history from the read models (the query lives in <c>src/ReadModels</c>; the chat list
/// with unread counts is <c>InboxQueries</c>). Access follows membership in <c>chat_members</c>:
/// a member sees messages from the seq they joined at; a former member keeps read access to the
/// range they were a member for. The caller's own messages carry delivered/read counts, computed
/// from the members' cursors and read markers (<see cref="ReceiptCounts"/>), and the page carries
/// the caller's read marker.
/// </summary>
internal sealed class HistoryReader(HistoryQueries history, ConversationQueries conversation, UserSettingsDirectory settings, InboxCatchUp catchUp)
{
    /// <summary>A page of messages before <paramref name="beforeSeq"/> (newest page when null), oldest first; null when not a member.</summary>
    public async Task<HistoryPageFrame?> PageAsync(DeviceRef reader, string chatId, long? beforeSeq, int limit, string? requestId, CancellationToken cancellationToken)
    {
        var userId = reader.UserId;
        var page = await history.PageAsync(reader, chatId, beforeSeq, limit, requestId, cancellationToken);
        if (page is null)
        {
            // A chat created or joined a moment ago may not be projected yet: a client opens it on
            // its first push (not_member in MessageContentTests while the chat runner batched its
            // fetches, 2026-11-26). Wait for the chat read model as a sync does, then look again.
            await catchUp.WaitUnmeteredAsync(reader, cancellationToken);
            page = await history.PageAsync(reader, chatId, beforeSeq, limit, requestId, cancellationToken);
            if (page is null)
            {
                return null;
            }
        }

        var positions = await conversation.PositionsAsync(chatId, cancellationToken);
        long? readSeq = null;
        foreach (var p in positions)
        {
            if (string.Equals(p.UserId, userId, StringComparison.Ordinal) && p.ReadSeq > 0)
            {
                readSeq = p.ReadSeq;
            }
        }

        // WhatsApp's rule: a user with read receipts off sees nobody's, and nobody sees theirs.
        var seesReads = settings.ReadReceipts(userId);
        var messages = new MessageFrame[page.Messages.Count];
        for (var i = 0; i < messages.Length; i++)
        {
            var m = page.Messages[i];
            if (string.Equals(m.Sender.UserId, userId, StringComparison.Ordinal))
            {
                var (delivered, read) = ReceiptCounts.Count(positions, m.Seq, userId, settings.ReadReceipts);
                m = m with { DeliveredCount = delivered, ReadCount = seesReads ? read : null };
            }

            messages[i] = m;
        }

        return page with { Messages = messages, ReadSeq = readSeq };
    }
}
