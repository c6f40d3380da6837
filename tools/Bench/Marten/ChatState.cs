using JasperFx.Events;
using Marten.Events.Aggregation;
using Messaging.Contracts.Commands;
using Messaging.Contracts.Events;

namespace Messaging.Bench.Marten;

/// <summary>
/// The chat read model on Marten (issue 10): one document per chat stream, the same facts as the
/// Npgsql <c>chats</c> and <c>chat_members</c> rows (kind, title, members with their join and
/// leave seqs, last seq). Seq guards are not needed here: the stream's version is the seq, so
/// events reach the projection once and in order.
/// </summary>
public sealed class ChatState
{
    public string Id { get; set; } = string.Empty;

    public string Kind { get; set; } = "group";

    public string? Title { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public long LastSeq { get; set; }

    public DateTimeOffset LastEventAt { get; set; }

    public List<ChatStateMember> Members { get; set; } = [];
}

/// <summary>A member as <c>chat_members</c> holds it: left members stay with their leave seq.</summary>
public sealed class ChatStateMember
{
    public string UserId { get; set; } = string.Empty;

    public string Role { get; set; } = "member";

    public long JoinedSeq { get; set; }

    public long? LeftSeq { get; set; }
}

/// <summary>
/// Folds a chat stream into <see cref="ChatState"/>. An explicit <see cref="Evolve"/> rather than
/// Marten's conventional Apply methods: no generated code for it, and one switch to read.
/// </summary>
public sealed class ChatStateProjection : SingleStreamProjection<ChatState, string>
{
    public override ChatState? Evolve(ChatState? snapshot, string id, IEvent e) => e.Data is ChatEvent chatEvent
        ? ChatStateRules.Apply(snapshot, chatEvent)
        : snapshot;
}

/// <summary>The membership rules of docs/read-models.md, as a pure function of the state and one event.</summary>
public static class ChatStateRules
{
    public static ChatState? Apply(ChatState? state, ChatEvent e)
    {
        if (e is ChatCreated created)
        {
            state ??= new ChatState
            {
                Id = created.ChatId,
                Kind = created.Kind == ChatKind.Direct ? "direct" : "group",
                Title = created.Title,
                CreatedAt = created.OccurredAt,
            };
            foreach (var m in created.Members)
            {
                state.Members.Add(new ChatStateMember { UserId = m.UserId, Role = m.Role == MemberRole.Admin ? "admin" : "member", JoinedSeq = created.Seq });
            }
        }

        if (state is null)
        {
            // An event before its chat's creation: nothing to attach it to (the Npgsql model drops it too).
            return null;
        }

        switch (e)
        {
            case MembersAdded added:
                foreach (var userId in added.UserIds)
                {
                    var member = Find(state, userId);
                    if (member is null)
                    {
                        state.Members.Add(new ChatStateMember { UserId = userId, JoinedSeq = added.Seq });
                    }
                    else if (member.LeftSeq is not null)
                    {
                        member.Role = "member";
                        member.JoinedSeq = added.Seq;
                        member.LeftSeq = null;
                    }
                }

                break;
            case MemberRemoved removed:
                Leave(state, removed.UserId, removed.Seq);
                break;
            case MemberLeft left:
                Leave(state, left.UserId, left.Seq);
                if (left.PromotedAdmin is not null && Find(state, left.PromotedAdmin) is { LeftSeq: null } promoted)
                {
                    promoted.Role = "admin";
                }

                break;
            case AdminGranted granted when Find(state, granted.UserId) is { LeftSeq: null } admin:
                admin.Role = "admin";
                break;
        }

        if (e.Seq > state.LastSeq)
        {
            state.LastSeq = e.Seq;
            state.LastEventAt = e.OccurredAt;
        }

        return state;
    }

    private static void Leave(ChatState state, string userId, long seq)
    {
        if (Find(state, userId) is { LeftSeq: null } member)
        {
            member.LeftSeq = seq;
        }
    }

    private static ChatStateMember? Find(ChatState state, string userId)
    {
        // Linear: membership events are rare, and a 1,024-member list is scanned in microseconds.
        foreach (var m in state.Members)
        {
            if (string.Equals(m.UserId, userId, StringComparison.Ordinal))
            {
                return m;
            }
        }

        return null;
    }
}
