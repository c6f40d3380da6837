using System.Text.Json.Serialization;

namespace Messaging.Projections.Archive;

/// <summary>
/// One record of <c>chat.events</c> in an archive file (one Parquet row): where it was in the
/// log, every envelope field and each type's own fields as columns for SQL, and the record value
/// itself (<see cref="Value"/>) for replay, so a rebuild from the archive decodes exactly the
/// bytes a rebuild from Kafka would (docs/analytics.md lists the columns).
/// </summary>
public sealed class ArchiveRow
{
    [JsonPropertyName("partition")]
    public int Partition { get; set; }

    [JsonPropertyName("offset")]
    public long Offset { get; set; }

    /// <summary>The record key (the chat id).</summary>
    [JsonPropertyName("key")]
    public string? Key { get; set; }

    /// <summary>The event type; null when the record did not decode (it is archived as it is, and parked by a rebuild as by the live path).</summary>
    [JsonPropertyName("type")]
    public string? Type { get; set; }

    [JsonPropertyName("v")]
    public int? V { get; set; }

    [JsonPropertyName("chat_id")]
    public string? ChatId { get; set; }

    [JsonPropertyName("seq")]
    public long? Seq { get; set; }

    [JsonPropertyName("actor_user_id")]
    public string? ActorUserId { get; set; }

    [JsonPropertyName("actor_device_id")]
    public string? ActorDeviceId { get; set; }

    [JsonPropertyName("occurred_at")]
    public DateTime? OccurredAt { get; set; }

    /// <summary><c>ChatCreated</c>: <c>Group</c> or <c>Direct</c>.</summary>
    [JsonPropertyName("chat_kind")]
    public string? ChatKind { get; set; }

    [JsonPropertyName("title")]
    public string? Title { get; set; }

    /// <summary><c>ChatCreated</c>: <c>[{userId, role}]</c> as JSON.</summary>
    [JsonPropertyName("members")]
    public string? Members { get; set; }

    /// <summary><c>ChatCreated</c>: members; <c>MembersAdded</c>: users added (a group's size is their sum minus removals and leaves).</summary>
    [JsonPropertyName("member_count")]
    public int? MemberCount { get; set; }

    /// <summary><c>MembersAdded</c>: the user ids as a JSON array.</summary>
    [JsonPropertyName("user_ids")]
    public string? UserIds { get; set; }

    /// <summary><c>MemberRemoved</c>, <c>MemberLeft</c>, <c>AdminGranted</c>.</summary>
    [JsonPropertyName("user_id")]
    public string? UserId { get; set; }

    [JsonPropertyName("promoted_admin")]
    public string? PromotedAdmin { get; set; }

    [JsonPropertyName("message_id")]
    public string? MessageId { get; set; }

    [JsonPropertyName("client_msg_id")]
    public string? ClientMsgId { get; set; }

    /// <summary>The text; null when the message was deleted before its file was written (<see cref="Deleted"/>).</summary>
    [JsonPropertyName("body")]
    public string? Body { get; set; }

    /// <summary><c>[{key, contentType, size, fileName?}]</c> as JSON.</summary>
    [JsonPropertyName("attachments")]
    public string? Attachments { get; set; }

    [JsonPropertyName("reply_to")]
    public string? ReplyTo { get; set; }

    /// <summary>How many devices an encrypted message or edit carried a ciphertext for (the ciphertexts stay in <see cref="Value"/> only).</summary>
    [JsonPropertyName("payload_devices")]
    public int? PayloadDevices { get; set; }

    /// <summary><c>MessageEdited</c>, <c>MessageDeleted</c>, <c>ReactionChanged</c>: the seq of the message they target.</summary>
    [JsonPropertyName("message_seq")]
    public long? MessageSeq { get; set; }

    [JsonPropertyName("emoji")]
    public string? Emoji { get; set; }

    /// <summary>A <c>MessageSent</c> or <c>MessageEdited</c> whose message is deleted in the same file: archived without its content.</summary>
    [JsonPropertyName("deleted")]
    public bool Deleted { get; set; }

    /// <summary>The record value (UTF-8 JSON); re-encoded without body, attachments and payloads when <see cref="Deleted"/>.</summary>
    [JsonPropertyName("value")]
    public byte[]? Value { get; set; }
}
