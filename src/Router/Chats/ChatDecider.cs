using System.Text;
using Messaging.Contracts;
using Messaging.Contracts.Commands;
using Messaging.Contracts.Delivery;
using Messaging.Contracts.Events;
using Messaging.Contracts.Protocol;

namespace Messaging.Router.Chats;

/// <summary>
/// The chat core: decides what a command means for a chat. No I/O, no clock, no randomness: the
/// same state, command and context always give the same decision, so a command re-processed
/// after a crash yields the same seq and messageId.
/// </summary>
public static partial class ChatDecider
{
    private static readonly ChatEvent[] NoEvents = [];

    public static Decision Decide(ChatState? state, ChatCommand command, in DecideContext ctx)
    {
        if (!IsWellFormed(command, out var problem))
        {
            return Reject(state, command, ErrorCodes.BadFrame, problem);
        }

        return command switch
        {
            SendMessage send => Send(state, send, ctx),
            CreateChat create => Create(state, create, ctx),
            AddMembers add => Add(state, add, ctx),
            RemoveMember remove => Remove(state, remove, ctx),
            LeaveChat leave => Leave(state, leave, ctx),
            GrantAdmin grant => Grant(state, grant, ctx),
            MarkRead read => Read(state, read, ctx),
            EditMessage edit => Edit(state, edit, ctx),
            DeleteMessage delete => Delete(state, delete, ctx),
            ReactToMessage react => React(state, react, ctx),
            _ => Reject(state, command, ErrorCodes.UnknownType, "unknown command"),
        };
    }

    private static Decision Send(ChatState? state, SendMessage send, in DecideContext ctx)
    {
        ChatCreated? created = null;
        if (state is null)
        {
            if (send.PeerUserId is null)
            {
                return Reject(state, send, ErrorCodes.UnknownChat, "no such chat");
            }

            // First message of a direct chat creates it; the id is derived, never chosen by the client.
            // Both user ids already passed IsWellFormed (Ids: no ':', so d:{a}:{b} is unambiguous).
            var sender = send.Origin.UserId;
            var peer = send.PeerUserId;
            if (sender == peer)
            {
                return Reject(state, send, ErrorCodes.BadFrame, "invalid peer for a direct chat");
            }

            if (send.ChatId != ChatIds.Direct(sender, peer))
            {
                return Reject(state, send, ErrorCodes.BadFrame, "a direct chat's id must be d:{min}:{max} of its two users");
            }

            if (IsTooLarge(send.Body, ctx.Limits.MaxBodyBytes))
            {
                // Checked before creating: a refused first message creates nothing.
                return TooLarge(state, send, ctx);
            }

            state = new ChatState(send.ChatId, ChatKind.Direct, null);
            created = CreatedDirect(state, send, peer, ctx);
        }
        else if (!state.IsMember(send.Origin.UserId))
        {
            return Reject(state, send, ErrorCodes.NotMember, "not a member of this chat");
        }
        else if (state.TryGetRecent(send.ClientMsgId, out var original))
        {
            var duplicate = new DuplicateSendIgnored
            {
                Devices = [send.Origin.Address],
                ChatId = send.ChatId,
                ClientMsgId = send.ClientMsgId,
                RequestId = send.RequestId,
                Seq = original.Seq,
                MessageId = original.MessageId,
            };
            return new Decision(state, NoEvents, duplicate);
        }
        else if (IsTooLarge(send.Body, ctx.Limits.MaxBodyBytes))
        {
            return TooLarge(state, send, ctx);
        }

        // The members' devices: the recipients, and the set per-device payloads must match exactly.
        var recipients = Recipients(state, ctx.Devices);
        if (SendContentRefusal(created is null ? state : null, state, send, recipients, ctx) is { } refusal)
        {
            return refusal;
        }

        var seq = state.TakeSeq();
        var sent = new MessageSent
        {
            ChatId = state.ChatId,
            Seq = seq,
            Actor = send.Origin,
            OccurredAt = ctx.Now,
            MessageId = send.MessageId,
            ClientMsgId = send.ClientMsgId,
            Body = send.Body,
            Attachments = send.Attachments,
            ReplyTo = send.ReplyTo,
            Payloads = send.Payloads,
        };
        state.Remember(new RecentMessage(send.ClientMsgId, seq, send.MessageId, send.Origin.UserId, WholeMilliseconds(ctx.Now), send.Payloads is not null), ctx.Limits.RecentClientMsgIds);
        state.LastCommandOffset = ctx.CommandOffset;
        return created is null
            ? new Decision(state, [sent], null, [recipients])
            : new Decision(state, [created, sent], null, [recipients, recipients]);
    }

    private static Decision TooLarge(ChatState? state, SendMessage send, in DecideContext ctx) =>
        Reject(state, send, ErrorCodes.TooLarge, $"body exceeds {ctx.Limits.MaxBodyBytes} bytes");

    private static ChatCreated CreatedDirect(ChatState state, ChatCommand command, string peer, in DecideContext ctx)
    {
        // Both users are plain members: a direct chat has no membership changes to administer.
        var seq = state.TakeSeq();
        state.AddMember(command.Origin.UserId, MemberRole.Member, seq);
        state.AddMember(peer, MemberRole.Member, seq);
        state.LastCommandOffset = ctx.CommandOffset;
        return new ChatCreated
        {
            ChatId = state.ChatId,
            Seq = seq,
            Actor = command.Origin,
            OccurredAt = ctx.Now,
            Kind = ChatKind.Direct,
            Members = MemberList(state),
        };
    }

    private static Decision Create(ChatState? state, CreateChat create, in DecideContext ctx)
    {
        if (state is not null)
        {
            return Reject(state, create, ErrorCodes.ChatExists, "a chat with this id already exists");
        }

        var creator = create.Origin.UserId;
        if (create.Kind == ChatKind.Direct)
        {
            if (create.Members.Count != 1 || create.Members[0] == creator || create.ChatId != ChatIds.Direct(creator, create.Members[0]))
            {
                return Reject(state, create, ErrorCodes.BadFrame, "a direct chat has exactly one other member and the id d:{min}:{max}");
            }

            var direct = new ChatState(create.ChatId, ChatKind.Direct, null);
            var createdDirect = CreatedDirect(direct, create, create.Members[0], ctx);
            return new Decision(direct, [createdDirect], null, [Recipients(direct, ctx.Devices)]);
        }

        if (ChatIds.IsDirect(create.ChatId))
        {
            return Reject(state, create, ErrorCodes.BadFrame, "group chat ids must not start with 'd:'");
        }

        if (string.IsNullOrWhiteSpace(create.Title))
        {
            return Reject(state, create, ErrorCodes.BadFrame, "a group needs a title");
        }

        // Distinct members, creator first; the creator listed again is not counted twice.
        var members = new List<string>(create.Members.Count + 1) { creator };
        var seen = new HashSet<string>(StringComparer.Ordinal) { creator };
        foreach (var userId in create.Members)
        {
            if (string.IsNullOrEmpty(userId))
            {
                return Reject(state, create, ErrorCodes.BadFrame, "empty user id");
            }

            if (seen.Add(userId))
            {
                members.Add(userId);
            }
        }

        if (members.Count > ctx.Limits.MaxGroupMembers)
        {
            return Reject(state, create, ErrorCodes.TooManyMembers, $"a group has at most {ctx.Limits.MaxGroupMembers} members");
        }

        var group = new ChatState(create.ChatId, ChatKind.Group, create.Title);
        var seq = group.TakeSeq();
        group.AddMember(creator, MemberRole.Admin, seq);
        for (var i = 1; i < members.Count; i++)
        {
            group.AddMember(members[i], MemberRole.Member, seq);
        }

        group.LastCommandOffset = ctx.CommandOffset;
        ChatEvent created = new ChatCreated
        {
            ChatId = group.ChatId,
            Seq = seq,
            Actor = create.Origin,
            OccurredAt = ctx.Now,
            Kind = ChatKind.Group,
            Title = create.Title,
            Members = MemberList(group),
        };
        return new Decision(group, [created], null, [Recipients(group, ctx.Devices)]);
    }

    private static Decision Add(ChatState? state, AddMembers add, in DecideContext ctx)
    {
        if (CheckAdmin(state, add) is { } refused)
        {
            return refused;
        }

        var added = new List<string>(add.UserIds.Count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var userId in add.UserIds)
        {
            if (string.IsNullOrEmpty(userId))
            {
                return Reject(state, add, ErrorCodes.BadFrame, "empty user id");
            }

            if (!state!.IsMember(userId) && seen.Add(userId))
            {
                added.Add(userId);
            }
        }

        if (added.Count == 0)
        {
            // Everyone is already a member (e.g. a client retry): nothing changes, nothing to refuse.
            return new Decision(state, NoEvents, null);
        }

        if (state!.Members.Count + added.Count > ctx.Limits.MaxGroupMembers)
        {
            return Reject(state, add, ErrorCodes.TooManyMembers, $"a group has at most {ctx.Limits.MaxGroupMembers} members");
        }

        var seq = state.TakeSeq();
        foreach (var userId in added)
        {
            state.AddMember(userId, MemberRole.Member, seq);
        }

        state.LastCommandOffset = ctx.CommandOffset;
        ChatEvent evt = new MembersAdded
        {
            ChatId = state.ChatId,
            Seq = seq,
            Actor = add.Origin,
            OccurredAt = ctx.Now,
            UserIds = added,
        };
        // After the change: the new members learn they were added.
        return new Decision(state, [evt], null, [Recipients(state, ctx.Devices)]);
    }

    private static Decision Remove(ChatState? state, RemoveMember remove, in DecideContext ctx)
    {
        if (CheckAdmin(state, remove) is { } refused)
        {
            return refused;
        }

        if (remove.UserId == remove.Origin.UserId)
        {
            return Reject(state, remove, ErrorCodes.BadFrame, "use LeaveChat to leave a chat");
        }

        if (!state!.TryGetMember(remove.UserId, out var target))
        {
            return Reject(state, remove, ErrorCodes.NotMember, "that user is not a member of this chat");
        }

        // Resolved before the removal, so the removed user's devices learn it too; nothing after.
        var recipients = Recipients(state, ctx.Devices);
        var seq = state.TakeSeq();
        state.RemoveMember(target);
        state.LastCommandOffset = ctx.CommandOffset;
        ChatEvent evt = new MemberRemoved
        {
            ChatId = state.ChatId,
            Seq = seq,
            Actor = remove.Origin,
            OccurredAt = ctx.Now,
            UserId = remove.UserId,
        };
        return new Decision(state, [evt], null, [recipients]);
    }

    private static Decision Leave(ChatState? state, LeaveChat leave, in DecideContext ctx)
    {
        if (state is null)
        {
            return Reject(state, leave, ErrorCodes.UnknownChat, "no such chat");
        }

        if (state.Kind == ChatKind.Direct)
        {
            return Reject(state, leave, ErrorCodes.BadFrame, "a direct chat's members are fixed");
        }

        if (!state.TryGetMember(leave.Origin.UserId, out var leaver))
        {
            return Reject(state, leave, ErrorCodes.NotMember, "not a member of this chat");
        }

        var recipients = Recipients(state, ctx.Devices);
        var seq = state.TakeSeq();
        state.RemoveMember(leaver);
        string? promoted = null;
        if (state.AdminCount == 0 && state.Members.Count > 0)
        {
            // The chat must keep an admin: the longest-standing member (first in join order) takes over.
            var heir = state.Members[0];
            state.MakeAdmin(heir);
            promoted = heir.UserId;
        }

        state.LastCommandOffset = ctx.CommandOffset;
        ChatEvent evt = new MemberLeft
        {
            ChatId = state.ChatId,
            Seq = seq,
            Actor = leave.Origin,
            OccurredAt = ctx.Now,
            UserId = leaver.UserId,
            PromotedAdmin = promoted,
        };
        return new Decision(state, [evt], null, [recipients]);
    }

    private static Decision Grant(ChatState? state, GrantAdmin grant, in DecideContext ctx)
    {
        if (CheckAdmin(state, grant) is { } refused)
        {
            return refused;
        }

        if (!state!.TryGetMember(grant.UserId, out var target))
        {
            return Reject(state, grant, ErrorCodes.NotMember, "that user is not a member of this chat");
        }

        if (target.Role == MemberRole.Admin)
        {
            return new Decision(state, NoEvents, null);
        }

        var seq = state.TakeSeq();
        state.MakeAdmin(target);
        state.LastCommandOffset = ctx.CommandOffset;
        ChatEvent evt = new AdminGranted
        {
            ChatId = state.ChatId,
            Seq = seq,
            Actor = grant.Origin,
            OccurredAt = ctx.Now,
            UserId = grant.UserId,
        };
        return new Decision(state, [evt], null, [Recipients(state, ctx.Devices)]);
    }

    /// <summary>Membership administration: the chat exists, is a group, and the actor is one of its admins.</summary>
    private static Decision? CheckAdmin(ChatState? state, ChatCommand command)
    {
        if (state is null)
        {
            return Reject(state, command, ErrorCodes.UnknownChat, "no such chat");
        }

        if (state.Kind == ChatKind.Direct)
        {
            return Reject(state, command, ErrorCodes.BadFrame, "a direct chat's members are fixed");
        }

        if (!state.TryGetMember(command.Origin.UserId, out var actor))
        {
            return Reject(state, command, ErrorCodes.NotMember, "not a member of this chat");
        }

        return actor.Role == MemberRole.Admin ? null : Reject(state, command, ErrorCodes.NotAdmin, "only admins can do this");
    }

    /// <summary>
    /// Every device of every member, the actor's too, as addresses: a device id is unique only
    /// within its user, so two members who both call their device <c>phone</c> are two recipients.
    /// </summary>
    private static string[] Recipients(ChatState state, IDeviceLookup devices)
    {
        // Two passes over the members instead of a growing list: one exact-size array per event.
        var members = state.Members;
        var count = 0;
        for (var i = 0; i < members.Count; i++)
        {
            count += devices.AddressesOf(members[i].UserId).Count;
        }

        if (count == 0)
        {
            return [];
        }

        var result = new string[count];
        var at = 0;
        for (var i = 0; i < members.Count; i++)
        {
            var list = devices.AddressesOf(members[i].UserId);
            for (var j = 0; j < list.Count && at < result.Length; j++)
            {
                result[at++] = list[j];
            }
        }

        // The lookup may change between the passes (a registration arriving on the table's thread): never hand out nulls.
        return at == result.Length ? result : result[..at];
    }

    private static ChatMember[] MemberList(ChatState state)
    {
        var result = new ChatMember[state.Members.Count];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = new ChatMember(state.Members[i].UserId, state.Members[i].Role);
        }

        return result;
    }

    private static bool IsTooLarge(string body, int maxBytes)
    {
        // UTF-8 needs at least one and at most three bytes per UTF-16 char: most bodies are settled without counting.
        if (body.Length > maxBytes)
        {
            return true;
        }

        return body.Length * 3L > maxBytes && Encoding.UTF8.GetByteCount(body) > maxBytes;
    }

    /// <summary>
    /// The Router never trusts a command: it refuses what Edge would (ids outside <see cref="Ids"/>,
    /// text <see cref="TextRules"/> cannot store, a title over its length), so a command from a
    /// buggy or older Edge, or written to the topic by anyone else, can neither poison the read
    /// models nor grow the chat's state record past its bound (<see cref="ChatStateBounds"/>).
    /// </summary>
    private static bool IsWellFormed(ChatCommand command, out string problem)
    {
        problem = command switch
        {
            _ when !Ids.IsValidChatId(command.ChatId) || string.IsNullOrEmpty(command.CommandId) => "a valid chatId and a commandId are required",
            _ when !TextRules.IsStorable(command.CommandId) || !TextRules.IsStorable(command.RequestId) => "commandId and id must be storable text",
            _ when command.Origin is null || !Ids.IsValidUserId(command.Origin.UserId) || !Ids.IsValidDeviceId(command.Origin.DeviceId) => "a valid origin user and device are required",
            SendMessage send => SendProblem(send),
            CreateChat create => create.Members is null ? "user ids are required"
                : create.Title is { } title && (title.Length > TextRules.MaxTitleLength || !TextRules.IsStorable(title)) ? $"a title is at most {TextRules.MaxTitleLength} characters of storable text"
                : UserIdsProblem(create.Members),
            AddMembers add => add.UserIds is null or { Count: 0 } ? "user ids are required" : UserIdsProblem(add.UserIds),
            RemoveMember remove => Ids.IsValidUserId(remove.UserId) ? "" : "a valid userId is required",
            GrantAdmin grant => Ids.IsValidUserId(grant.UserId) ? "" : "a valid userId is required",
            MarkRead read => read.Seq >= 1 ? "" : "'seq' must be at least 1",
            EditMessage edit => !Ids.IsValidClientMsgId(edit.MessageId) ? "a valid messageId is required"
                : edit.Body is null ? "a body is required (empty with payloads)"
                : !TextRules.IsStorable(edit.Body) ? "the body contains NUL or an unpaired surrogate"
                : "",
            DeleteMessage delete => Ids.IsValidClientMsgId(delete.MessageId) ? "" : "a valid messageId is required",
            ReactToMessage react => !Ids.IsValidClientMsgId(react.MessageId) ? "a valid messageId is required"
                : ContentRules.IsValidEmoji(react.Emoji) ? "" : $"an emoji is 1-{ContentRules.MaxEmojiLength} characters of storable text",
            _ => "",
        };
        return problem.Length == 0;
    }

    private static string SendProblem(SendMessage send)
    {
        if (!Ids.IsValidClientMsgId(send.ClientMsgId) || !Ids.IsValidClientMsgId(send.MessageId))
        {
            return "valid clientMsgId and messageId are required";
        }

        if (send.PeerUserId is not null && !Ids.IsValidUserId(send.PeerUserId))
        {
            return "invalid peer user id";
        }

        if (send.Body is null || (send.Body.Length == 0 && (send.Attachments is null || send.Attachments.Count == 0) && send.Payloads is null))
        {
            return "a message needs a body, payloads or an attachment";
        }

        if (send.Payloads is not null && send.Body.Length > 0)
        {
            return "a message carries either a body or payloads";
        }

        if (send.ReplyTo is not null && !Ids.IsValidClientMsgId(send.ReplyTo))
        {
            return "'replyTo' is not a valid message id";
        }

        if (!TextRules.IsStorable(send.Body))
        {
            return "the body contains NUL or an unpaired surrogate";
        }

        if (send.Attachments is { } attachments)
        {
            foreach (var attachment in attachments)
            {
                if (attachment is null || !TextRules.IsStorable(attachment.Key) || !TextRules.IsStorable(attachment.ContentType) || !TextRules.IsStorable(attachment.FileName))
                {
                    return "an attachment is missing or not storable text";
                }
            }
        }

        return "";
    }

    private static string UserIdsProblem(IReadOnlyList<string> userIds)
    {
        foreach (var userId in userIds)
        {
            if (!Ids.IsValidUserId(userId))
            {
                return "invalid user id";
            }
        }

        return "";
    }

    private static Decision Reject(ChatState? state, ChatCommand command, string code, string message)
    {
        var rejected = new CommandRejected
        {
            Devices = [command.Origin is { } origin ? origin.Address : ""],
            ChatId = command.ChatId ?? "",
            CommandId = command.CommandId ?? "",
            RequestId = command.RequestId,
            Code = code,
            Message = message,
        };
        return new Decision(state, NoEvents, rejected);
    }
}
