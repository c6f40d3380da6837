using Messaging.Contracts;
using Messaging.Contracts.Protocol;
using Messaging.ReadModels.Chats;

namespace Messaging.Edge.History;

/// <summary>
/// Chat history from the read models (the query lives in <c>src/ReadModels</c>; the chat list
/// with unread counts is <c>InboxQueries</c>). Access follows membership in <c>chat_members</c>:
/// a member sees messages from the seq they joined at; a former member keeps read access to the
/// range they were a member for.
/// </summary>
internal sealed class HistoryReader(HistoryQueries history)
{
    /// <summary>A page of messages before <paramref name="beforeSeq"/> (newest page when null), oldest first; null when not a member.</summary>
    public Task<HistoryPageFrame?> PageAsync(DeviceRef reader, string chatId, long? beforeSeq, int limit, string? requestId, CancellationToken cancellationToken) =>
        history.PageAsync(reader, chatId, beforeSeq, limit, requestId, cancellationToken);
}
