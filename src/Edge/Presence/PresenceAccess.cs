using Messaging.ReadModels.Chats;

namespace Messaging.Edge.Presence;

/// <summary>
/// The privacy rule: a user may see the presence of users they currently share a chat with
/// (both rows of <c>chat_members</c> with <c>left_seq</c> null), and their own. One indexed
/// query per request (the caller's chats by <c>(user_id, chat_id)</c>, then the key
/// <c>(chat_id, user_id)</c> per requested user), never per push: it is checked when a watch
/// starts, so a watch outlives a later leave until unwatch or disconnect. The read model trails
/// the log, so a chat created a moment ago may not count yet (the client retries).
/// </summary>
internal sealed class PresenceAccess(MemberQueries members)
{
    /// <summary>The requested users the caller shares no current chat with.</summary>
    public async Task<IReadOnlyList<string>> ForbiddenAsync(string userId, IReadOnlyCollection<string> userIds, CancellationToken cancellationToken)
    {
        var others = userIds.Where(u => !string.Equals(u, userId, StringComparison.Ordinal)).ToArray();
        if (others.Length == 0)
        {
            return [];
        }

        var allowed = await members.CurrentCoMembersAsync(userId, others, cancellationToken);
        return others.Where(u => !allowed.Contains(u)).ToList();
    }
}
