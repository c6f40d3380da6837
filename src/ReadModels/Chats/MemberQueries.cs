using Npgsql;

namespace Messaging.ReadModels.Chats;

/// <summary>Typed queries on <c>chat_members</c> alone.</summary>
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
