using System.Text.Json.Serialization;

namespace Messaging.Projections.Archive;

/// <summary>
/// One ack of <c>device.acks</c> in an archive file (a record, or one ack of a node's batch): a device holds everything in a chat up
/// to <see cref="Seq"/> since <see cref="AckedAt"/>. With the message's <c>occurred_at</c> from
/// the <c>chat.events</c> archive this is the delivery lag (docs/analytics.md).
/// </summary>
public sealed class AckRow
{
    [JsonPropertyName("partition")]
    public int Partition { get; set; }

    [JsonPropertyName("offset")]
    public long Offset { get; set; }

    /// <summary>The record key (a device address <c>userId/deviceId</c>; of a batch, its first device's).</summary>
    [JsonPropertyName("key")]
    public string? Key { get; set; }

    /// <summary><c>DeliveryAcked</c>, or <c>DeliveriesAcked</c> for each ack of a batch; null when the record did not decode.</summary>
    [JsonPropertyName("type")]
    public string? Type { get; set; }

    [JsonPropertyName("v")]
    public int? V { get; set; }

    [JsonPropertyName("user_id")]
    public string? UserId { get; set; }

    [JsonPropertyName("device_id")]
    public string? DeviceId { get; set; }

    [JsonPropertyName("chat_id")]
    public string? ChatId { get; set; }

    [JsonPropertyName("seq")]
    public long? Seq { get; set; }

    /// <summary>When the device's Edge node received the ack (its clock, not the Router's).</summary>
    [JsonPropertyName("acked_at")]
    public DateTime? AckedAt { get; set; }

    /// <summary>The record value (UTF-8 JSON), as in Kafka; null on the rows of a batch (they hold all of it).</summary>
    [JsonPropertyName("value")]
    public byte[]? Value { get; set; }
}
