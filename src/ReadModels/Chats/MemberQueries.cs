using Npgsql;

namespace Messaging.ReadModels.Chats;

/// <summary>Typed queries on <c>chat_members</c> (with <c>chats</c> for the chat's last seq).</summary>
public sealed class MemberQueries(NpgsqlDataSource dataSource)
{
    /// <summary>
    /// One indexed query: the user's chats by <c>(user_id, chat_id)</c>, then the key
    /// <c>(chat_id, user_id)</c> per other user.
    /// </summary>
    private const string CurrentCoMembersSql = """
        select distinct other.user_id
        from chat_members mine
        join chat_members other on other.chat_id = mine.chat_id
        where mine.user_id = $1 and mine.left_seq is null
          and other.user_id = any($2) and other.left_seq is null
        """;

    /// <summary>Two primary-key lookups: <c>chat_members (chat_id, user_id)</c> joined to <c>chats (chat_id)</c>.</summary>
    private const string AckScopeSql = """
        select c.last_seq, cm.left_seq
        from chat_members cm join chats c on c.chat_id = cm.chat_id
        where cm.chat_id = $1 and cm.user_id = $2
        """;

    /// <summary>
    /// What a member may acknowledge in a chat: its last seq, and the seq the user left at (null
    /// while a member); null when the user was never a member.
    /// </summary>
    public async Task<(long LastSeq, long? LeftSeq)?> AckScopeAsync(string userId, string chatId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(AckScopeSql);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = chatId });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? (reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetInt64(1))
            : null;
    }

    /// <summary>Which of <paramref name="others"/> currently share a chat with <paramref name="userId"/> (both without <c>left_seq</c>).</summary>
    public async Task<HashSet<string>> CurrentCoMembersAsync(string userId, string[] others, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(CurrentCoMembersSql);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = others });
        var shared = new HashSet<string>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            shared.Add(reader.GetString(0));
        }

        return shared;
    }
}
