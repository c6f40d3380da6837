using Messaging.Contracts;
using Messaging.Contracts.Commands;
using Messaging.Contracts.Delivery;
using Messaging.Contracts.Events;
using Messaging.Contracts.Protocol;

namespace Messaging.Router.Chats;

/// <summary>
/// Edits, deletes for everyone, reactions, replies and per-device payloads (issue 11). They need
/// a message's sender and time: the decider finds them in the chat's recent-message index
/// (<see cref="ChatState.TryGetMessage(string, MessageFacts?, out RecentMessage)"/>, bounded by
/// <c>Router:RecentClientMsgIds</c>, the same entries that de-duplicate retried sends), or for an
/// older message in the read model's facts Edge attached (<see cref="MessageFacts"/>: the client
/// gave its seq); an older message without them is <c>unknown_message</c> (docs/router.md, "Recent messages").
/// </summary>
public static partial class ChatDecider
{
    /// <summary>Reply target and payload set of a send (null: nothing to refuse). <paramref name="rejectState"/> is the state a refusal keeps (null for a chat this send would create).</summary>
    private static Decision? SendContentRefusal(ChatState? rejectState, ChatState state, SendMessage send, string[] recipients, in DecideContext ctx)
    {
        if (send.ReplyTo is { } replyTo)
        {
            if (rejectState is null || !state.TryGetMessage(replyTo, send.ReplyTarget, out var target))
            {
                return Reject(rejectState, send, ErrorCodes.UnknownMessage, "'replyTo' is not a message of this chat (for one older than the recent messages, give 'replyToSeq')");
            }

            if (target.Deleted)
            {
                return Reject(rejectState, send, ErrorCodes.MessageDeleted, "'replyTo' was deleted");
            }
        }

        return send.Payloads is { } payloads ? PayloadRefusal(rejectState, send, payloads, recipients, ctx) : null;
    }

    private static Decision Edit(ChatState? state, EditMessage edit, in DecideContext ctx)
    {
        if (Target(state, edit, edit.MessageId, edit.Target, out var target) is { } refused)
        {
            return refused;
        }

        if (target.Deleted)
        {
            return Reject(state, edit, ErrorCodes.MessageDeleted, "the message was deleted");
        }

        if (!string.Equals(target.Sender, edit.Origin.UserId, StringComparison.Ordinal))
        {
            return Reject(state, edit, ErrorCodes.NotAllowed, "only its sender can edit a message");
        }

        if (!Within(target, ctx.Limits.EditWindow, ctx.Now))
        {
            return Reject(state, edit, ErrorCodes.WindowPassed, $"a message can be edited for {ctx.Limits.EditWindow.TotalMinutes:0.##} minutes after sending");
        }

        var recipients = Recipients(state!, ctx.Devices);
        if (target.Encrypted != (edit.Payloads is not null) || (!target.Encrypted && edit.Body.Length == 0) || (target.Encrypted && edit.Body.Length > 0))
        {
            return Reject(state, edit, ErrorCodes.BadFrame, target.Encrypted
                ? "an encrypted message is edited with payloads and no body"
                : "a plain message is edited with a non-empty body and no payloads");
        }

        if (IsTooLarge(edit.Body, ctx.Limits.MaxBodyBytes))
        {
            return Reject(state, edit, ErrorCodes.TooLarge, $"body exceeds {ctx.Limits.MaxBodyBytes} bytes");
        }

        if (edit.Payloads is { } payloads && PayloadRefusal(state, edit, payloads, recipients, ctx) is { } payloadRefused)
        {
            return payloadRefused;
        }

        var seq = state!.TakeSeq();
        state.LastCommandOffset = ctx.CommandOffset;
        ChatEvent evt = new MessageEdited
        {
            ChatId = state.ChatId,
            Seq = seq,
            Actor = edit.Origin,
            OccurredAt = ctx.Now,
            MessageId = target.MessageId,
            MessageSeq = target.Seq,
            Body = edit.Body,
            Payloads = edit.Payloads,
        };
        return new Decision(state, [evt], null, [recipients]);
    }

    private static Decision Delete(ChatState? state, DeleteMessage delete, in DecideContext ctx)
    {
        if (Target(state, delete, delete.MessageId, delete.Target, out var target) is { } refused)
        {
            return refused;
        }

        if (target.Deleted)
        {
            // Already a tombstone (a retry, or two admins at once): nothing changes, nothing to refuse.
            return new Decision(state, NoEvents, null);
        }

        var isAdmin = state!.Kind == ChatKind.Group && state.TryGetMember(delete.Origin.UserId, out var actor) && actor.Role == MemberRole.Admin;
        if (!isAdmin)
        {
            if (!string.Equals(target.Sender, delete.Origin.UserId, StringComparison.Ordinal))
            {
                return Reject(state, delete, ErrorCodes.NotAllowed, "only its sender or a group admin can delete a message for everyone");
            }

            if (!Within(target, ctx.Limits.DeleteWindow, ctx.Now))
            {
                return Reject(state, delete, ErrorCodes.WindowPassed, $"a message can be deleted for everyone for {ctx.Limits.DeleteWindow.TotalHours:0.##} hours after sending");
            }
        }

        var seq = state.TakeSeq();
        target.Deleted = true;
        state.LastCommandOffset = ctx.CommandOffset;
        ChatEvent evt = new MessageDeleted
        {
            ChatId = state.ChatId,
            Seq = seq,
            Actor = delete.Origin,
            OccurredAt = ctx.Now,
            MessageId = target.MessageId,
            MessageSeq = target.Seq,
        };
        return new Decision(state, [evt], null, [Recipients(state, ctx.Devices)]);
    }

    private static Decision React(ChatState? state, ReactToMessage react, in DecideContext ctx)
    {
        if (Target(state, react, react.MessageId, react.Target, out var target) is { } refused)
        {
            return refused;
        }

        if (target.Deleted)
        {
            return Reject(state, react, ErrorCodes.MessageDeleted, "the message was deleted");
        }

        // The Router does not keep who reacted with what (not bounded by anything it limits): a
        // repeated reaction is an event the read side applies idempotently.
        var seq = state!.TakeSeq();
        state.LastCommandOffset = ctx.CommandOffset;
        ChatEvent evt = new ReactionChanged
        {
            ChatId = state.ChatId,
            Seq = seq,
            Actor = react.Origin,
            OccurredAt = ctx.Now,
            MessageId = target.MessageId,
            MessageSeq = target.Seq,
            Emoji = react.Emoji,
        };
        return new Decision(state, [evt], null, [Recipients(state, ctx.Devices)]);
    }

    /// <summary>The chat exists, the actor is a member, and the message is one of its recent messages or one older than them that Edge found (<paramref name="facts"/>).</summary>
    private static Decision? Target(ChatState? state, ChatCommand command, string messageId, MessageFacts? facts, out RecentMessage target)
    {
        target = null!;
        if (state is null)
        {
            return Reject(state, command, ErrorCodes.UnknownChat, "no such chat");
        }

        if (!state.IsMember(command.Origin.UserId))
        {
            return Reject(state, command, ErrorCodes.NotMember, "not a member of this chat");
        }

        return state.TryGetMessage(messageId, facts, out target)
            ? null
            : Reject(state, command, ErrorCodes.UnknownMessage, "not a message of this chat (for one older than the recent messages, give its 'messageSeq')");
    }

    /// <summary>
    /// Younger than <paramref name="window"/> (a zero window allows nothing). A message restored
    /// without its time (an older snapshot) is outside every window.
    /// </summary>
    private static bool Within(RecentMessage message, TimeSpan window, DateTimeOffset now) =>
        message.SentAt is { } sentAt && now - sentAt < window;

    /// <summary>
    /// Per-device payloads: each a base64 ciphertext within the body limit, and the devices exactly
    /// <paramref name="recipients"/> (every device of every member, the sender's own included). A
    /// missing or an extra device is refused with the current list, so the client re-encrypts for it.
    /// </summary>
    private static Decision? PayloadRefusal(ChatState? state, ChatCommand command, IReadOnlyDictionary<string, string> payloads, string[] recipients, in DecideContext ctx)
    {
        if (ContentRules.PayloadsProblem(payloads, ctx.Limits.MaxBodyBytes) is { } problem)
        {
            return Reject(state, command, problem.TooLarge ? ErrorCodes.TooLarge : ErrorCodes.BadFrame, problem.Message);
        }

        var matches = payloads.Count == recipients.Length;
        for (var i = 0; matches && i < recipients.Length; i++)
        {
            matches = payloads.ContainsKey(recipients[i]);
        }

        if (matches)
        {
            return null;
        }

        var rejected = new CommandRejected
        {
            Devices = [command.Origin.Address],
            ChatId = command.ChatId,
            CommandId = command.CommandId,
            RequestId = command.RequestId,
            Code = ErrorCodes.DeviceListChanged,
            Message = "the payloads are not for exactly the chat's devices: encrypt for 'devices'",
            CurrentDevices = recipients,
        };
        return new Decision(state, NoEvents, rejected);
    }

    /// <summary>The time kept in the recent-message index: whole milliseconds, as the snapshot stores it, so a re-decision after a restore sees the same time.</summary>
    internal static DateTimeOffset WholeMilliseconds(DateTimeOffset at) => DateTimeOffset.FromUnixTimeMilliseconds(at.ToUnixTimeMilliseconds());
}
