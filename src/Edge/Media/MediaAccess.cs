using Messaging.ReadModels.Chats;

namespace Messaging.Edge.Media;

/// <summary>
/// Who may get a download URL for an attachment key: its uploader (the key names them), or a
/// member of a chat with a message carrying the key, for messages within their membership (the
/// same range history shows them: from the seq they joined to the seq they left). One query: the
/// GIN index on <c>messages.attachments</c> (migration 0003) finds the few messages with the key,
/// then the primary key of <c>chat_members</c> checks the caller. Everyone else is told the key
/// does not exist (404), so a key's existence is not revealed to non-members. The query is
/// <see cref="HistoryQueries.AttachmentVisibleAsync"/>.
/// </summary>
internal sealed class MediaAccess(HistoryQueries history)
{
    public async Task<bool> MayReadAsync(string userId, string key, CancellationToken cancellationToken)
    {
        if (!MediaKeys.TryParse(key, out var uploader))
        {
            return false;
        }

        if (string.Equals(uploader, userId, StringComparison.Ordinal))
        {
            return true;
        }

        return await history.AttachmentVisibleAsync(userId, key, cancellationToken);
    }
}
