using Messaging.Contracts.Protocol;
using Messaging.Edge.Sockets;
using Messaging.Edge.Sync;
using Messaging.ReadModels.Chats;

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
/// device could write cursors for chats it is not in (rows without bound in
/// <c>device_cursors</c>), and an ack beyond the chat's last seq would raise its cursor past
/// messages not sent yet, which its syncs would then never return (silent loss). First the
/// connection's <see cref="AckableSeqs"/>, then <see cref="MemberQueries.AckScopeAsync"/>.
/// Acks are cumulative and the projection keeps the highest, so an ack that waits for the lookup
/// may reach the log after a later one that did not: no harm. A refusal waits for the chat read
/// model (as a sync does) and looks again first: a read marker on a message the device learnt of
/// other than by a push (its own, a sibling device's) may name a seq not projected yet.
/// </summary>
internal sealed class AckAccess(MemberQueries members, InboxCatchUp catchUp)
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
        if (error is not null)
        {
            await catchUp.WaitUnmeteredAsync(connection.Device, cancellationToken);
            scope = await ReadAsync(connection.Device.UserId, chatId, cancellationToken);
            error = AckRules.Check(seq, scope);
        }

        if (error is null)
        {
            connection.Ackable.Note(chatId, scope!.Value.UpTo);
        }

        return error;
    }

    /// <summary>The error frame for a refused ack or read marker.</summary>
    public static ErrorFrame Refusal(string? requestId, string code) => new(requestId, code, code == ErrorCodes.NotMember
        ? "not a member of this chat"
        : "'seq' is beyond the last seq of this chat you may acknowledge");

    private async Task<AckScope?> ReadAsync(string userId, string chatId, CancellationToken cancellationToken) =>
        await members.AckScopeAsync(userId, chatId, cancellationToken) is { } scope ? new AckScope(scope.LastSeq, scope.LeftSeq) : null;
}
