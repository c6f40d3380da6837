using System.Text.Json.Serialization;

namespace Messaging.Contracts.Commands;

/// <summary>
/// A request to change a chat, appended by Edge to <c>chat.commands</c> (key: chat id).
/// The Router decides whether it becomes events or a refusal.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(CreateChat), "CreateChat")]
[JsonDerivedType(typeof(SendMessage), "SendMessage")]
[JsonDerivedType(typeof(AddMembers), "AddMembers")]
[JsonDerivedType(typeof(RemoveMember), "RemoveMember")]
[JsonDerivedType(typeof(LeaveChat), "LeaveChat")]
[JsonDerivedType(typeof(GrantAdmin), "GrantAdmin")]
[JsonDerivedType(typeof(MarkRead), "MarkRead")]
[JsonDerivedType(typeof(EditMessage), "EditMessage")]
[JsonDerivedType(typeof(DeleteMessage), "DeleteMessage")]
[JsonDerivedType(typeof(ReactToMessage), "ReactToMessage")]
public abstract record ChatCommand
{
    /// <summary>Schema version of this record.</summary>
    public int V { get; init; } = 1;

    /// <summary>Unique id of the command (Edge assigns it).</summary>
    public required string CommandId { get; init; }

    public required string ChatId { get; init; }

    /// <summary>The device that issued the command.</summary>
    public required DeviceRef Origin { get; init; }

    /// <summary>The Edge node holding the origin socket: refusals are delivered there.</summary>
    public required int OriginNode { get; init; }

    /// <summary>The client's frame id, echoed in a refusal.</summary>
    public string? RequestId { get; init; }

    public required DateTimeOffset IssuedAt { get; init; }

    /// <summary>
    /// W3C trace context (<c>00-traceid-spanid-01</c>) of the Edge span that accepted the command,
    /// present only when that message is traced (<c>Telemetry:TraceSampleRatio</c>): Kafka 0.9 has
    /// no record headers, so the context travels in the record (under <c>Kafka:TraceHeaders</c> a
    /// <c>traceparent</c> record header carries it instead). Optional; readers ignore it.
    /// </summary>
    public string? Traceparent { get; init; }
}

public enum ChatKind
{
    Group,
    Direct,
}

/// <summary>Create a group chat (direct chats are created by their first message).</summary>
public sealed record CreateChat : ChatCommand
{
    public ChatKind Kind { get; init; } = ChatKind.Group;

    public string? Title { get; init; }

    /// <summary>User ids of the initial members besides the creator.</summary>
    public required IReadOnlyList<string> Members { get; init; }
}

public sealed record SendMessage : ChatCommand
{
    /// <summary>The client's id for the message: (chatId, clientMsgId) de-duplicates retries.</summary>
    public required string ClientMsgId { get; init; }

    /// <summary>Globally unique message id, assigned by Edge so a re-processed command yields the same id.</summary>
    public required string MessageId { get; init; }

    public required string Body { get; init; }

    /// <summary>For a direct chat's first message: the other user; the Router creates the chat.</summary>
    public string? PeerUserId { get; init; }

    public IReadOnlyList<Attachment>? Attachments { get; init; }

    /// <summary>The message this one replies to (a message of the same chat).</summary>
    public string? ReplyTo { get; init; }

    /// <summary>The read side's facts about <see cref="ReplyTo"/> when the client gave its seq (<see cref="MessageFacts"/>).</summary>
    public MessageFacts? ReplyTarget { get; init; }

    /// <summary>
    /// End-to-end encrypted content instead of <see cref="Body"/> (which is then empty): one
    /// base64 ciphertext per receiving device, keyed by its address <c>userId/deviceId</c>; the set
    /// must be exactly the chat's devices (the sender's own included) or the send is refused with
    /// <c>device_list_changed</c>.
    /// </summary>
    public IReadOnlyDictionary<string, string>? Payloads { get; init; }
}

/// <summary>Media stored in S3; the bytes never pass through Edge.</summary>
public sealed record Attachment(string Key, string ContentType, long Size, string? FileName = null);

public sealed record AddMembers : ChatCommand
{
    public required IReadOnlyList<string> UserIds { get; init; }
}

public sealed record RemoveMember : ChatCommand
{
    public required string UserId { get; init; }
}

public sealed record LeaveChat : ChatCommand;

public sealed record GrantAdmin : ChatCommand
{
    public required string UserId { get; init; }
}
