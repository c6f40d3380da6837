using System.Text;
using System.Text.Json;
using Messaging.Contracts;
using Messaging.Contracts.Commands;
using Messaging.Contracts.Protocol;
using Messaging.Contracts.Serialization;

namespace Messaging.Edge.Sockets;

/// <summary>The limits a client frame is checked against (from <see cref="EdgeOptions"/>).</summary>
internal sealed record FrameLimits(int MaxBodyBytes, int MaxIdLength, int HistoryMaxPageSize, long MaxAttachmentBytes)
{
    /// <summary>An attachment list longer than this is refused (a message is not a file dump).</summary>
    public int MaxAttachments { get; init; } = 32;

    /// <summary>The most user ids one membership frame may carry (the Router enforces the real group limit).</summary>
    public int MaxUserIds { get; init; } = 1024;

    /// <summary>The most user ids one presence frame may carry (<c>Edge:MaxPresenceWatches</c>).</summary>
    public int MaxPresenceUsers { get; init; } = new EdgeOptions().MaxPresenceWatches;
}

/// <summary>The outcome of checking one client frame: a valid frame, or the error to answer with.</summary>
internal readonly record struct FrameCheck(ClientFrame? Frame, string? Id, string? ErrorCode, string? ErrorMessage)
{
    public bool IsValid => Frame is not null;

    public static FrameCheck Valid(ClientFrame frame) => new(frame, frame.Id, null, null);

    public static FrameCheck Invalid(string? id, string code, string message) => new(null, id, code, message);
}

/// <summary>
/// Decodes and checks a client frame (pure, no I/O): JSON shape through the source-generated
/// contract, then the rules the type system cannot say (non-empty ids, body size, exactly one
/// of chatId/toUserId, …). Never throws on client input.
/// </summary>
internal static class FrameValidator
{
    public static FrameCheck Validate(ReadOnlySpan<byte> utf8, string userId, FrameLimits limits)
    {
        var decoded = Codecs.ClientFrames.Decode(utf8);
        if (decoded.Status == DecodeStatus.UnknownType)
        {
            return FrameCheck.Invalid(ReadId(utf8, limits), ErrorCodes.UnknownType, $"unknown frame type '{decoded.Type}'");
        }

        if (!decoded.IsOk)
        {
            return FrameCheck.Invalid(ReadId(utf8, limits), ErrorCodes.BadFrame, decoded.Error ?? "malformed frame");
        }

        var frame = decoded.Value!;
        if (frame.Id is { } id && (id.Length == 0 || id.Length > limits.MaxIdLength || !TextRules.IsStorable(id)))
        {
            return FrameCheck.Invalid(null, ErrorCodes.BadFrame, $"'id' must be 1-{limits.MaxIdLength} characters of storable text");
        }

        var error = Check(frame, userId, limits);
        return error is null ? FrameCheck.Valid(frame) : FrameCheck.Invalid(frame.Id, error.Value.Code, error.Value.Message);
    }

    /// <summary>Best effort: the top-level <c>id</c> of a frame that failed to decode, so the error can echo it.</summary>
    public static string? ReadId(ReadOnlySpan<byte> utf8, FrameLimits limits)
    {
        try
        {
            var reader = new Utf8JsonReader(utf8);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isId = reader.ValueTextEquals("id"u8);
                if (!reader.Read())
                {
                    return null;
                }

                if (isId)
                {
                    return reader.TokenType == JsonTokenType.String && reader.ValueSpan.Length <= limits.MaxIdLength
                        ? reader.GetString()
                        : null;
                }

                reader.Skip();
            }
        }
        catch (JsonException)
        {
        }
        catch (InvalidOperationException)
        {
        }

        return null;
    }

    private static (string Code, string Message)? Check(ClientFrame frame, string userId, FrameLimits limits) => frame switch
    {
        CreateChatFrame f => CheckUserIds(f.Members, "members", limits, allowEmpty: true) ?? CheckTitle(f.Title),
        SendMessageFrame f => CheckSend(f, userId, limits),
        AckFrame f => CheckChatId(f.ChatId) ?? (f.Seq < 1 ? Bad("'seq' must be at least 1") : null),
        SyncFrame f => f.Limit is < 1 ? Bad("'limit' must be at least 1") : null,
        HistoryFrame f => CheckChatId(f.ChatId)
            ?? (f.BeforeSeq is < 1 ? Bad("'beforeSeq' must be at least 1") : null)
            ?? (f.Limit is { } l && (l < 1 || l > limits.HistoryMaxPageSize) ? Bad($"'limit' must be 1-{limits.HistoryMaxPageSize}") : null),
        AddMembersFrame f => CheckChatId(f.ChatId) ?? CheckUserIds(f.UserIds, "userIds", limits, allowEmpty: false),
        RemoveMemberFrame f => CheckChatId(f.ChatId) ?? CheckUserId(f.UserId, "userId", limits),
        LeaveChatFrame f => CheckChatId(f.ChatId),
        GrantAdminFrame f => CheckChatId(f.ChatId) ?? CheckUserId(f.UserId, "userId", limits),
        RemoveDeviceFrame f => Ids.IsValidDeviceId(f.DeviceId) && f.DeviceId.Length <= limits.MaxIdLength ? null : Bad(IdRule("deviceId")),
        UploadMediaFrame f => CheckUpload(f, limits),
        PingFrame => null,
        GetPresenceFrame f => CheckPresenceUsers(f.UserIds, limits),
        WatchPresenceFrame f => CheckPresenceUsers(f.UserIds, limits),
        UnwatchPresenceFrame f => CheckPresenceUsers(f.UserIds, limits),
        ReadFrame f => CheckChatId(f.ChatId) ?? (f.Seq < 1 ? Bad("'seq' must be at least 1") : null),
        TypingFrame f => CheckChatId(f.ChatId) ?? (ConversationStates.IsTypingState(f.State) ? null : Bad("'state' must be 'started' or 'stopped'")),
        SetSettingsFrame => null,
        EditMessageFrame f => CheckChatId(f.ChatId) ?? CheckMessageId(f.MessageId, "messageId", limits) ?? CheckContent(f.Body ?? "", f.Payloads, limits)
            ?? (string.IsNullOrEmpty(f.Body) && f.Payloads is null ? Bad("an edit needs a 'body' or 'payloads'") : null) ?? CheckSeq(f.MessageSeq, "messageSeq"),
        DeleteMessageFrame f => CheckChatId(f.ChatId) ?? CheckMessageId(f.MessageId, "messageId", limits) ?? CheckSeq(f.MessageSeq, "messageSeq"),
        ReactFrame f => CheckChatId(f.ChatId) ?? CheckMessageId(f.MessageId, "messageId", limits) ?? CheckSeq(f.MessageSeq, "messageSeq")
            ?? (ContentRules.IsValidEmoji(f.Emoji) ? null : Bad($"'emoji' must be null or 1-{ContentRules.MaxEmojiLength} characters of storable text")),
        _ => (ErrorCodes.UnknownType, $"frame type {frame.GetType().Name} is not handled"),
    };

    private static (string, string)? CheckSeq(long? seq, string name) => seq is < 1 ? Bad($"'{name}' must be at least 1") : null;

    private static (string, string)? CheckSend(SendMessageFrame f, string userId, FrameLimits limits)
    {
        if ((f.ChatId is null) == (f.ToUserId is null))
        {
            return Bad("exactly one of 'chatId' and 'toUserId' is required");
        }

        if (f.ChatId is not null && CheckChatId(f.ChatId) is { } chatError)
        {
            return chatError;
        }

        if (f.ToUserId is not null)
        {
            if (CheckUserId(f.ToUserId, "toUserId", limits) is { } peerError)
            {
                return peerError;
            }

            if (string.Equals(f.ToUserId, userId, StringComparison.Ordinal))
            {
                return Bad("'toUserId' must be another user");
            }
        }

        if (!Ids.IsValidClientMsgId(f.ClientMsgId) || f.ClientMsgId.Length > limits.MaxIdLength)
        {
            return Bad(IdRule("clientMsgId"));
        }

        if (f.Body is null && f.Payloads is null && f.Attachments is not { Count: > 0 })
        {
            return Bad("a message needs a 'body', 'payloads' or an attachment");
        }

        if (CheckContent(f.Body ?? "", f.Payloads, limits) is { } contentError)
        {
            return contentError;
        }

        if (f.ReplyTo is not null && CheckMessageId(f.ReplyTo, "replyTo", limits) is { } replyError)
        {
            return replyError;
        }

        if (f.ReplyToSeq is not null && (f.ReplyTo is null ? Bad("'replyToSeq' needs 'replyTo'") : CheckSeq(f.ReplyToSeq, "replyToSeq")) is { } replySeqError)
        {
            return replySeqError;
        }

        if (f.Attachments is { } attachments)
        {
            if (attachments.Count > limits.MaxAttachments)
            {
                return (ErrorCodes.TooLarge, $"at most {limits.MaxAttachments} attachments");
            }

            foreach (var attachment in attachments)
            {
                if (CheckAttachment(attachment, limits) is { } attachmentError)
                {
                    return attachmentError;
                }
            }
        }

        return null;
    }

    /// <summary>A body within the limit, or per-device payloads (each within the body limit) and no body.</summary>
    private static (string, string)? CheckContent(string body, IReadOnlyDictionary<string, string>? payloads, FrameLimits limits)
    {
        if (Encoding.UTF8.GetByteCount(body) > limits.MaxBodyBytes)
        {
            return (ErrorCodes.TooLarge, $"'body' exceeds {limits.MaxBodyBytes} bytes");
        }

        if (!TextRules.IsStorable(body))
        {
            return Bad(Unstorable("body"));
        }

        if (payloads is null)
        {
            return null;
        }

        if (body.Length > 0)
        {
            return Bad("'body' and 'payloads' exclude each other");
        }

        return ContentRules.PayloadsProblem(payloads, limits.MaxBodyBytes) is { } problem
            ? (problem.TooLarge ? ErrorCodes.TooLarge : ErrorCodes.BadFrame, problem.Message)
            : null;
    }

    /// <summary>Message ids are Edge's UUIDv7s; the id rules of <c>clientMsgId</c> bound them.</summary>
    private static (string, string)? CheckMessageId(string? value, string field, FrameLimits limits) =>
        Ids.IsValidClientMsgId(value) && value!.Length <= limits.MaxIdLength ? null : Bad(IdRule(field));

    private static (string, string)? CheckAttachment(Attachment? attachment, FrameLimits limits)
    {
        if (attachment is null)
        {
            return Bad("an attachment is null");
        }

        if (string.IsNullOrEmpty(attachment.Key) || attachment.Key.Length > limits.MaxIdLength * 4 || !TextRules.IsStorable(attachment.Key))
        {
            return Bad("an attachment 'key' is empty, too long or not storable text");
        }

        if (string.IsNullOrEmpty(attachment.ContentType) || attachment.ContentType.Length > limits.MaxIdLength || !TextRules.IsStorable(attachment.ContentType))
        {
            return Bad("an attachment 'contentType' is empty, too long or not storable text");
        }

        if (!TextRules.IsStorable(attachment.FileName))
        {
            return Bad(Unstorable("fileName"));
        }

        if (attachment.Size < 0)
        {
            return Bad("an attachment 'size' is negative");
        }

        return attachment.Size > limits.MaxAttachmentBytes
            ? (ErrorCodes.TooLarge, $"an attachment exceeds {limits.MaxAttachmentBytes} bytes")
            : null;
    }

    private static (string, string)? CheckUpload(UploadMediaFrame f, FrameLimits limits)
    {
        if (string.IsNullOrWhiteSpace(f.ContentType) || f.ContentType.Length > limits.MaxIdLength || !TextRules.IsStorable(f.ContentType))
        {
            return Bad($"'contentType' must be 1-{limits.MaxIdLength} characters of storable text");
        }

        if (f.FileName is { Length: 0 } || f.FileName?.Length > limits.MaxIdLength * 2)
        {
            return Bad("'fileName' is empty or too long");
        }

        if (!TextRules.IsStorable(f.FileName))
        {
            return Bad(Unstorable("fileName"));
        }

        if (f.Size < 1)
        {
            return Bad("'size' must be at least 1");
        }

        return f.Size > limits.MaxAttachmentBytes
            ? (ErrorCodes.TooLarge, $"'size' exceeds {limits.MaxAttachmentBytes} bytes")
            : null;
    }

    private static (string, string)? CheckUserIds(IReadOnlyList<string> ids, string field, FrameLimits limits, bool allowEmpty)
    {
        if (!allowEmpty && ids.Count == 0)
        {
            return Bad($"'{field}' must not be empty");
        }

        if (ids.Count > limits.MaxUserIds)
        {
            return (ErrorCodes.TooManyMembers, $"'{field}' has more than {limits.MaxUserIds} entries");
        }

        foreach (var id in ids)
        {
            if (CheckUserId(id, field, limits) is { } error)
            {
                return error;
            }
        }

        return null;
    }

    private static (string, string)? CheckPresenceUsers(IReadOnlyList<string> ids, FrameLimits limits)
    {
        if (ids.Count == 0)
        {
            return Bad("'userIds' must not be empty");
        }

        if (ids.Count > limits.MaxPresenceUsers)
        {
            return (ErrorCodes.TooLarge, $"'userIds' has more than {limits.MaxPresenceUsers} entries");
        }

        foreach (var id in ids)
        {
            if (CheckUserId(id, "userIds", limits) is { } error)
            {
                return error;
            }
        }

        return null;
    }

    private static (string, string)? CheckTitle(string? title)
    {
        if (title is null)
        {
            return null;
        }

        if (title.Length > TextRules.MaxTitleLength)
        {
            return (ErrorCodes.TooLarge, $"'title' exceeds {TextRules.MaxTitleLength} characters");
        }

        return TextRules.IsStorable(title) ? null : Bad(Unstorable("title"));
    }

    private static (string, string)? CheckChatId(string? value) => Ids.IsValidChatId(value) ? null : Bad(IdRule("chatId"));

    /// <summary><c>Edge:MaxIdLength</c> may only tighten <see cref="Ids.MaxLength"/>.</summary>
    private static (string, string)? CheckUserId(string? value, string field, FrameLimits limits) =>
        Ids.IsValidUserId(value) && value!.Length <= limits.MaxIdLength ? null : Bad(IdRule(field));

    private static string IdRule(string field) => $"'{field}' is not a valid id (docs/protocol.md, Ids)";

    private static string Unstorable(string field) => $"'{field}' contains NUL or an unpaired surrogate";

    private static (string Code, string Message)? Bad(string message) => (ErrorCodes.BadFrame, message);
}
