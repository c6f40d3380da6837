using Npgsql;

namespace Messaging.Edge.Presence;

/// <summary>
/// The privacy rule: a user may see the presence of users they currently share a chat with
/// (both rows of <c>chat_members</c> with <c>left_seq</c> null), and their own. One indexed
/// query per request (the caller's chats by <c>(user_id, chat_id)</c>, then the key
/// <c>(chat_id, user_id)</c> per requested user), never per push: it is checked when a watch
/// starts, so a watch outlives a later leave until unwatch or disconnect. The read model trails
/// the log, so a chat created a moment ago may not count yet (the client retries).
/// </summary>
internal sealed class PresenceAccess(NpgsqlDataSource dataSource)
{
    /// <summary>The requested users the caller shares no current chat with.</summary>
    public async Task<IReadOnlyList<string>> ForbiddenAsync(string userId, IReadOnlyCollection<string> userIds, CancellationToken cancellationToken)
    {
        var others = userIds.Where(u => !string.Equals(u, userId, StringComparison.Ordinal)).ToArray();
        if (others.Length == 0)
        {
            return [];
        }

        await using var command = dataSource.CreateCommand(
            """
            select distinct other.user_id
            from chat_members mine
            join chat_members other on other.chat_id = mine.chat_id
            where mine.user_id = $1 and mine.left_seq is null
              and other.user_id = any($2) and other.left_seq is null
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = others });
        var allowed = new HashSet<string>(StringComparer.Ordinal);
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                allowed.Add(reader.GetString(0));
            }
        }

        return others.Where(u => !allowed.Contains(u)).ToList();
    }
}
