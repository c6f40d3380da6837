using Messaging.Contracts.Protocol;
using Messaging.Edge.Sockets;
using Npgsql;

namespace Messaging.Edge.Commands;

/// <summary>What the read models say about one user in one chat, for an ack.</summary>
internal readonly record struct AckScope(long LastSeq, long? LeftSeq)
{
    /// <summary>A current member may ack up to the chat's last seq; a former member up to the seq they left at (their inbox ends there).</summary>
    public long UpTo => LeftSeq is { } left ? Math.Min(left, LastSeq) : LastSeq;
}

/// <summary>The ack rule as a pure function (tested exhaustively).</summary>
internal static class AckRules
{
    /// <summary>Null when the ack may be recorded, else the error code: never a member → <c>not_member</c>; a seq the chat does not have (for this user) → <c>bad_frame</c>.</summary>
    public static string? Check(long seq, AckScope? scope) => scope switch
    {
        null => ErrorCodes.NotMember,
        { } s when seq > s.UpTo => ErrorCodes.BadFrame,
        _ => null,
    };
}

/// <summary>
/// Authorizes an <c>ack {chatId, seq}</c> before it reaches <c>device.acks</c>: without it a
/// device could write watermarks for chats it is not in (rows without bound in
/// <c>ack_watermarks</c>), and an ack beyond the chat's last seq would raise its watermark past
/// messages not sent yet, whose inbox rows the projection then never writes (silent loss). First the connection's <see cref="AckableSeqs"/>, then one
/// primary-key lookup (<c>chat_members (chat_id, user_id)</c> joined to <c>chats (chat_id)</c>).
/// Acks are cumulative and the projection keeps the highest, so an ack that waits for the lookup
/// may reach the log after a later one that did not: no harm.
/// </summary>
internal sealed class AckAccess(NpgsqlDataSource dataSource)
{
    /// <summary>Null when allowed, else the error code for the reply.</summary>
    public async ValueTask<string?> CheckAsync(Connection connection, string chatId, long seq, CancellationToken cancellationToken)
    {
        if (connection.Ackable.Covers(chatId, seq))
        {
            return null;
        }

        var scope = await ReadAsync(connection.Device.UserId, chatId, cancellationToken);
        var error = AckRules.Check(seq, scope);
        if (error is null)
        {
            connection.Ackable.Note(chatId, scope!.Value.UpTo);
        }

        return error;
    }

    private async Task<AckScope?> ReadAsync(string userId, string chatId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            """
            select c.last_seq, cm.left_seq
            from chat_members cm join chats c on c.chat_id = cm.chat_id
            where cm.chat_id = $1 and cm.user_id = $2
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = chatId });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new AckScope(reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetInt64(1))
            : null;
    }
}
