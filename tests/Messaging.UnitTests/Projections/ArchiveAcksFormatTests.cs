using System.ComponentModel.DataAnnotations;
using Messaging.Contracts.Devices;
using Messaging.Contracts.Serialization;
using Messaging.Projections.Archive;
using Messaging.Projections.Runtime;

namespace Messaging.UnitTests.Projections;

/// <summary>The <c>device.acks</c> archive's rows and its settings.</summary>
public sealed class ArchiveAcksFormatTests
{
    [Fact]
    public void An_ack_row_carries_the_device_chat_seq_and_time_and_an_undecodable_record_is_kept_as_it_is()
    {
        var ack = new DeliveryAcked { UserId = "bo", DeviceId = "phone", ChatId = "c", Seq = 7, AckedAt = new DateTimeOffset(2026, 11, 25, 13, 0, 1, TimeSpan.FromHours(1)) };
        SourceRecord[] records =
        [
            new("device.acks", 2, 40, "bo/phone", Codecs.Devices.Encode(ack)),
            new("device.acks", 2, 41, "bo/phone", "{not json"u8.ToArray()),
        ];

        var rows = AcksFormat.Rows(records, [ack, null]);

        rows[0].Should().BeEquivalentTo(new { Partition = 2, Offset = 40L, Key = "bo/phone", Type = "DeliveryAcked", V = ack.V, UserId = "bo", DeviceId = "phone", ChatId = "c", Seq = 7L });
        rows[0].AckedAt.Should().Be(new DateTime(2026, 11, 25, 12, 0, 1, DateTimeKind.Utc));
        rows[0].Value.Should().Equal(records[0].Value);
        rows[1].Should().BeEquivalentTo(new { Offset = 41L, Type = (string?)null, ChatId = (string?)null });
        rows[1].Value.Should().Equal(records[1].Value);
    }

    [Fact]
    public void A_batch_of_acks_is_one_row_per_ack_with_the_batch_position_and_no_value_and_goes_under_its_first_ack_hour()
    {
        var at = new DateTimeOffset(2026, 11, 26, 13, 59, 59, TimeSpan.Zero);
        var batch = new DeliveriesAcked
        {
            Acks =
            [
                new DeviceAck { UserId = "bo", DeviceId = "phone", ChatId = "c", Seq = 7, AckedAt = at },
                new DeviceAck { UserId = "ana", DeviceId = "laptop", ChatId = "d", Seq = 2, AckedAt = at.AddSeconds(1) },
            ],
        };
        SourceRecord[] records = [new("device.acks", 1, 90, "bo/phone", Codecs.Devices.Encode(batch))];
        var format = new AcksFormat(null!, new Messaging.Contracts.Topics.TopicNames(""));

        var decoded = format.Decode(records[0].Value);
        var rows = AcksFormat.Rows(records, [decoded]);

        decoded.Should().BeOfType<DeliveriesAcked>();
        format.Hour(decoded!).Should().Be(new DateTime(2026, 11, 26, 13, 0, 0, DateTimeKind.Utc));
        rows.Should().HaveCount(2);
        rows[0].Should().BeEquivalentTo(new { Partition = 1, Offset = 90L, Key = "bo/phone", Type = "DeliveriesAcked", V = batch.V, UserId = "bo", DeviceId = "phone", ChatId = "c", Seq = 7L, Value = (byte[]?)null });
        rows[1].Should().BeEquivalentTo(new { Partition = 1, Offset = 90L, Type = "DeliveriesAcked", UserId = "ana", DeviceId = "laptop", ChatId = "d", Seq = 2L, Value = (byte[]?)null });
        rows[1].AckedAt.Should().Be(new DateTime(2026, 11, 26, 14, 0, 0, DateTimeKind.Utc));
    }

    [Theory]
    [InlineData("chat-events/v1", "device-acks/v1", true)]
    [InlineData("archive/chat-events", "archive/device-acks", true)]
    [InlineData("archive", "archive/device-acks", false)]
    [InlineData("archive/chat-events", "archive", false)]
    [InlineData("chat-events/v1", "chat-events/v1", false)]
    [InlineData("chat-events/v1", "device-acks/v1/", false)]
    public void The_acks_prefix_is_valid_only_outside_the_events_prefix(string prefix, string acksPrefix, bool valid)
    {
        var options = new ArchiveOptions { Prefix = prefix, AcksPrefix = acksPrefix };

        options.Validate(new ValidationContext(options)).Should().HaveCount(valid ? 0 : 1);
    }
}
