using Messaging.Contracts.Protocol;

namespace Messaging.Client;

/// <summary>Replies, per-device payloads, edits, deletes for everyone and reactions (issue 11).</summary>
public sealed partial class ChatClient
{
    /// <summary>
    /// Sends a reply to <paramref name="replyTo"/> (a message of the same chat). Give
    /// <paramref name="replyToSeq"/> (its seq) to reply to a message older than the Router's recent
    /// messages (docs/protocol.md); the other calls below take a <c>messageSeq</c> for the same reason.
    /// </summary>
    public Task<MessageAcceptedFrame> ReplyAsync(string chatId, string replyTo, string body, string? clientMsgId = null, long? replyToSeq = null, CancellationToken cancellationToken = default) =>
        RequestAsync<MessageAcceptedFrame>(
            new SendMessageFrame { ChatId = chatId, ClientMsgId = clientMsgId ?? Guid.NewGuid().ToString("N"), Body = body, ReplyTo = replyTo, ReplyToSeq = replyToSeq },
            cancellationToken);

    /// <summary>
    /// Sends an end-to-end encrypted message: one base64 ciphertext per device address
    /// (<c>userId/deviceId</c>) of the chat, this device's included. A stale device set is refused
    /// with <see cref="ErrorCodes.DeviceListChanged"/>; the exception's <c>Error.Devices</c> is the
    /// current list to encrypt for.
    /// </summary>
    public Task<MessageAcceptedFrame> SendEncryptedAsync(string chatId, IReadOnlyDictionary<string, string> payloads, string? clientMsgId = null, CancellationToken cancellationToken = default) =>
        RequestAsync<MessageAcceptedFrame>(
            new SendMessageFrame { ChatId = chatId, ClientMsgId = clientMsgId ?? Guid.NewGuid().ToString("N"), Payloads = payloads },
            cancellationToken);

    /// <summary>Replaces the text of a message this user sent (within the edit window); the outcome arrives as <c>message.edited</c> or <c>error</c>.</summary>
    public Task<AcceptedFrame> EditMessageAsync(string chatId, string messageId, string body, long? messageSeq = null, CancellationToken cancellationToken = default) =>
        RequestAsync<AcceptedFrame>(new EditMessageFrame { ChatId = chatId, MessageId = messageId, Body = body, MessageSeq = messageSeq }, cancellationToken);

    /// <summary>Replaces the payloads of an encrypted message this user sent (within the edit window).</summary>
    public Task<AcceptedFrame> EditEncryptedAsync(string chatId, string messageId, IReadOnlyDictionary<string, string> payloads, CancellationToken cancellationToken = default) =>
        RequestAsync<AcceptedFrame>(new EditMessageFrame { ChatId = chatId, MessageId = messageId, Payloads = payloads }, cancellationToken);

    /// <summary>Deletes a message for everyone; the outcome arrives as <c>message.deleted</c> or <c>error</c>.</summary>
    public Task<AcceptedFrame> DeleteMessageAsync(string chatId, string messageId, long? messageSeq = null, CancellationToken cancellationToken = default) =>
        RequestAsync<AcceptedFrame>(new DeleteMessageFrame { ChatId = chatId, MessageId = messageId, MessageSeq = messageSeq }, cancellationToken);

    /// <summary>Sets this user's reaction to a message (null removes it); the outcome arrives as <c>reaction</c> or <c>error</c>.</summary>
    public Task<AcceptedFrame> ReactAsync(string chatId, string messageId, string? emoji, long? messageSeq = null, CancellationToken cancellationToken = default) =>
        RequestAsync<AcceptedFrame>(new ReactFrame { ChatId = chatId, MessageId = messageId, Emoji = emoji, MessageSeq = messageSeq }, cancellationToken);

    /// <summary>A frame that stands for a chat event (it has a seq): what sync streams.</summary>
    public static bool IsChatEvent(ServerFrame frame) =>
        frame is MessageFrame or ChatUpdatedFrame or MessageEditedFrame or MessageDeletedFrame or ReactionFrame;

    /// <summary>The <c>(chatId, seq)</c> of a chat event frame; empty and 0 for any other frame.</summary>
    public static (string ChatId, long Seq) PositionOf(ServerFrame frame) => frame switch
    {
        MessageFrame m => (m.ChatId, m.Seq),
        ChatUpdatedFrame u => (u.ChatId, u.Seq),
        MessageEditedFrame e => (e.ChatId, e.Seq),
        MessageDeletedFrame d => (d.ChatId, d.Seq),
        ReactionFrame r => (r.ChatId, r.Seq),
        _ => (string.Empty, 0L),
    };
}
