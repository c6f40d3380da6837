using Messaging.Contracts;
using Messaging.Edge.Sync;
using Messaging.ReadModels.Chats;

namespace Messaging.Edge.Media;

/// <summary>
/// Who may get a download URL for an attachment key: its uploader (the key names them), or a
/// member of a chat with a message carrying the key, for messages within their membership (the
/// same range history shows them: from the seq they joined to the seq they left). One query: the
/// GIN index on <c>messages.attachments</c> (migration 0003) finds the few messages with the key,
/// then the primary key of <c>chat_members</c> checks the caller. Everyone else is told the key
/// does not exist (404), so a key's existence is not revealed to non-members. The query is
/// <see cref="HistoryQueries.AttachmentVisibleAsync"/>. A key it does not find yet waits for the
/// chat read model (as a sync does) before the 404: the message carrying it may have been pushed a
/// moment before the projection wrote it.
/// </summary>
internal sealed class MediaAccess(HistoryQueries history, InboxCatchUp catchUp)
{
    public async Task<bool> MayReadAsync(DeviceRef reader, string key, CancellationToken cancellationToken)
    {
        if (!MediaKeys.TryParse(key, out var uploader))
        {
            return false;
        }

        if (string.Equals(uploader, reader.UserId, StringComparison.Ordinal))
        {
            return true;
        }

        if (await history.AttachmentVisibleAsync(reader.UserId, key, cancellationToken))
        {
            return true;
        }

        await catchUp.WaitUnmeteredAsync(reader, cancellationToken);
        return await history.AttachmentVisibleAsync(reader.UserId, key, cancellationToken);
    }
}
