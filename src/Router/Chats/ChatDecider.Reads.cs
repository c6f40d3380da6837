using Messaging.Contracts.Commands;
using Messaging.Contracts.Events;
using Messaging.Contracts.Protocol;

namespace Messaging.Router.Chats;

/// <summary>Read markers (issue 11): <see cref="MarkRead"/> → <see cref="MessagesRead"/>.</summary>
public static partial class ChatDecider
{
    /// <summary>
    /// A current member may mark up to the chat's last seq. The marker takes no seq of its own
    /// (its seq is the position it marks) and goes to the reader's own devices only: a read in a
    /// group of 1,024 costs one push per device of the reader, not one per device of the group.
    /// The state changes only by the command offset; a marker at or below an earlier one is still
    /// appended (the Router keeps no per-member read position, which would grow every chat's
    /// state by a seq per member; Edge drops repeats per connection, and applying it is a maximum).
    /// </summary>
    private static Decision Read(ChatState? state, MarkRead read, in DecideContext ctx)
    {
        if (state is null)
        {
            return Reject(state, read, ErrorCodes.UnknownChat, "no such chat");
        }

        if (!state.IsMember(read.Origin.UserId))
        {
            return Reject(state, read, ErrorCodes.NotMember, "not a member of this chat");
        }

        if (read.Seq > state.LastSeq)
        {
            return Reject(state, read, ErrorCodes.BadFrame, "'seq' is beyond the chat's last seq");
        }

        state.LastCommandOffset = ctx.CommandOffset;
        ChatEvent marker = new MessagesRead
        {
            ChatId = state.ChatId,
            Seq = read.Seq,
            Actor = read.Origin,
            OccurredAt = ctx.Now,
            Private = read.Private is true ? true : null,
        };
        return new Decision(state, [marker], null, [[.. ctx.Devices.AddressesOf(read.Origin.UserId)]]);
    }
}
