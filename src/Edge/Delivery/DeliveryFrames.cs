using Messaging.Contracts.Delivery;
using Messaging.Contracts.Events;
using Messaging.Contracts.Protocol;
using Messaging.ReadModels.Chats;

namespace Messaging.Edge.Delivery;

/// <summary>What a client sees for each node delivery and chat event (pure mapping).</summary>
internal static class DeliveryFrames
{
    /// <summary>The frame of a node delivery; with <paramref name="pushedAt"/> (<c>Edge:HopTimestamps</c>) a message frame carries it and the record's <c>acceptedAt</c>.</summary>
    public static ServerFrame? ToFrame(NodeDelivery delivery, DateTimeOffset? pushedAt = null) => delivery switch
    {
        EventRouted { Event: MessageSent sent } routed when pushedAt is not null => Message(sent, routed.AcceptedAt, pushedAt),
        EventRouted routed => ToFrame(routed.Event),
        CommandRejected rejected => new ErrorFrame(rejected.RequestId, rejected.Code, rejected.Message, Devices: rejected.CurrentDevices),
        ReceiptsRouted receipts => new ReceiptFrame { ChatId = receipts.ChatId, State = receipts.State, Receipts = receipts.Receipts },
        TypingRouted typing => new TypingPushFrame { ChatId = typing.ChatId, UserId = typing.UserId, State = typing.State, ExpiresInMs = typing.ExpiresInMs },
        DuplicateSendIgnored duplicate => new MessageAcceptedFrame
        {
            Id = duplicate.RequestId,
            ClientMsgId = duplicate.ClientMsgId,
            ChatId = duplicate.ChatId,
            MessageId = duplicate.MessageId,
            Seq = duplicate.Seq,
        },
        _ => null,
    };

    public static ServerFrame ToFrame(ChatEvent chatEvent) => chatEvent switch
    {
        MessageSent sent => Message(sent, null, null),
        ChatCreated created => Update(created, ChangeKinds.Created, created.Members.Select(m => m.UserId).ToList(), created.Title),
        MembersAdded added => Update(added, ChangeKinds.MembersAdded, added.UserIds, null),
        MemberRemoved removed => Update(removed, ChangeKinds.MemberRemoved, [removed.UserId], null),
        MemberLeft left => Update(left, ChangeKinds.MemberLeft, left.PromotedAdmin is null ? [left.UserId] : [left.UserId, left.PromotedAdmin], null),
        AdminGranted granted => Update(granted, ChangeKinds.AdminGranted, [granted.UserId], null),
        MessagesRead read => new ReadMarkerFrame { ChatId = read.ChatId, Seq = read.Seq, At = read.OccurredAt },
        MessageEdited edited => new MessageEditedFrame
        {
            ChatId = edited.ChatId,
            Seq = edited.Seq,
            MessageId = edited.MessageId,
            MessageSeq = edited.MessageSeq,
            Actor = edited.Actor,
            Body = edited.Body,
            EditedAt = edited.OccurredAt,
        },
        MessageDeleted deleted => new MessageDeletedFrame
        {
            ChatId = deleted.ChatId,
            Seq = deleted.Seq,
            MessageId = deleted.MessageId,
            MessageSeq = deleted.MessageSeq,
            Actor = deleted.Actor,
            DeletedAt = deleted.OccurredAt,
        },
        ReactionChanged reaction => new ReactionFrame
        {
            ChatId = reaction.ChatId,
            Seq = reaction.Seq,
            MessageId = reaction.MessageId,
            MessageSeq = reaction.MessageSeq,
            Actor = reaction.Actor,
            Emoji = reaction.Emoji,
            At = reaction.OccurredAt,
        },
        _ => Update(chatEvent, chatEvent.GetType().Name, null, null),
    };

    /// <summary>The event's per-device payloads (an encrypted message or edit), or null: then one frame fits every device.</summary>
    public static IReadOnlyDictionary<string, string>? PayloadsOf(NodeDelivery delivery) => delivery switch
    {
        EventRouted { Event: MessageSent { Payloads: { } payloads } } => payloads,
        EventRouted { Event: MessageEdited { Payloads: { } payloads } } => payloads,
        _ => null,
    };

    /// <summary>The frame one device receives of an encrypted message or edit: only its own ciphertext.</summary>
    public static ServerFrame ForDevice(ServerFrame frame, IReadOnlyDictionary<string, string> payloads, string address)
    {
        var payload = payloads.TryGetValue(address, out var own) ? own : null;
        return frame switch
        {
            MessageFrame message => message with { Payload = payload },
            MessageEditedFrame edited => edited with { Payload = payload },
            _ => frame,
        };
    }

    private static MessageFrame Message(MessageSent sent, DateTimeOffset? acceptedAt, DateTimeOffset? pushedAt) => new()
    {
        ChatId = sent.ChatId,
        Seq = sent.Seq,
        MessageId = sent.MessageId,
        ClientMsgId = sent.ClientMsgId,
        Sender = sent.Actor,
        Body = sent.Body,
        SentAt = sent.OccurredAt,
        Attachments = sent.Attachments,
        ReplyTo = sent.ReplyTo,
        AcceptedAt = acceptedAt,
        PushedAt = pushedAt,
    };

    private static ChatUpdatedFrame Update(ChatEvent e, string change, IReadOnlyList<string>? userIds, string? title) => new()
    {
        ChatId = e.ChatId,
        Seq = e.Seq,
        Change = change,
        Actor = e.Actor,
        UserIds = userIds,
        Title = title,
        At = e.OccurredAt,
    };
}
