using Messaging.Contracts.Events;

namespace Messaging.Router.Chats;

/// <summary>
/// The other half of the chat core: what an event does to a chat's state, so the state the
/// Router keeps (and writes to <c>chat.state</c>) is a cache of <c>chat.events</c> and can be
/// rebuilt from the log alone when that cache is lost (docs/router.md, "Rebuilding chat.state
/// from chat.events"). Folding the decider's own events gives the state the decider left, except
/// <see cref="ChatState.LastCommandOffset"/>, which no event carries (the rebuild's caller sets
/// it). Like <see cref="ChatDecider"/> it mutates the state in place and does no I/O.
/// </summary>
public static class ChatEvolver
{
    /// <summary>
    /// Applies <paramref name="evt"/> to <paramref name="state"/> (null before the chat's
    /// <see cref="ChatCreated"/>) and returns the state after it. An event at or below the
    /// state's last seq changes nothing: a crash before the state flush re-appends the same
    /// events (same seq), and the first copy of a seq is the one every consumer keeps. An event of
    /// a chat never created (a log cut by retention before its <see cref="ChatCreated"/>) is
    /// ignored: there is no state to rebuild it into.
    /// </summary>
    public static ChatState? Evolve(ChatState? state, ChatEvent evt, int recentCapacity)
    {
        if (evt is ChatCreated created)
        {
            return state ?? Create(created);
        }

        // A read marker takes no seq of its own (its seq is the position it marks) and changes nothing the decider keeps.
        if (state is null || evt is MessagesRead || evt.Seq <= state.LastSeq)
        {
            return state;
        }

        switch (evt)
        {
            case MessageSent sent:
                state.Remember(
                    new RecentMessage(sent.ClientMsgId, sent.Seq, sent.MessageId, sent.Actor.UserId, ChatDecider.WholeMilliseconds(sent.OccurredAt), sent.Payloads is not null),
                    recentCapacity);
                break;
            case MembersAdded added:
                foreach (var userId in added.UserIds)
                {
                    if (!state.IsMember(userId))
                    {
                        state.AddMember(userId, MemberRole.Member, added.Seq);
                    }
                }

                break;
            case MemberRemoved removed:
                Remove(state, removed.UserId);
                break;
            case MemberLeft left:
                Remove(state, left.UserId);
                if (left.PromotedAdmin is { } heir && state.TryGetMember(heir, out var promoted))
                {
                    state.MakeAdmin(promoted);
                }

                break;
            case AdminGranted granted:
                if (state.TryGetMember(granted.UserId, out var grantee))
                {
                    state.MakeAdmin(grantee);
                }

                break;
            case MessageDeleted deleted:
                if (state.TryGetMessage(deleted.MessageId, out var tombstone))
                {
                    tombstone.Deleted = true;
                }

                break;
            default:
                // MessageEdited, ReactionChanged: the decider keeps neither the text nor who reacted; they only take a seq.
                break;
        }

        state.RestoreSeq(evt.Seq);
        return state;
    }

    private static void Remove(ChatState state, string userId)
    {
        if (state.TryGetMember(userId, out var member))
        {
            state.RemoveMember(member);
        }
    }

    private static ChatState Create(ChatCreated created)
    {
        var state = new ChatState(created.ChatId, created.Kind, created.Title);
        foreach (var member in created.Members)
        {
            if (!state.IsMember(member.UserId))
            {
                state.AddMember(member.UserId, member.Role, created.Seq);
            }
        }

        state.RestoreSeq(created.Seq);
        return state;
    }
}
