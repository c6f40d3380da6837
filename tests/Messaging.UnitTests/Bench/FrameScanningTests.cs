using System.Text;
using Messaging.Bench.Connections;
using Messaging.Contracts;
using Messaging.Contracts.Protocol;
using Messaging.Contracts.Serialization;

namespace Messaging.UnitTests.Bench;

public sealed class FrameScanningTests
{
    private static readonly BenchMessageId Id = new(3, 17, 4242, 987_654_321);

    [Fact]
    public void A_bench_message_id_round_trips_through_its_text_form()
    {
        BenchMessageId.TryParse(Encoding.UTF8.GetBytes(Id.ToString()), out var parsed).Should().BeTrue();

        parsed.Should().Be(Id);
    }

    [Theory]
    [InlineData("")]
    [InlineData("smoke-1234")]
    [InlineData("b1.2.3")]
    [InlineData("b1.2.3.x")]
    [InlineData("b-1.2.3.4")]
    [InlineData("b1..3.4")]
    [InlineData("b99999999999.2.3.4")]
    public void Client_message_ids_the_generator_did_not_write_are_not_parsed(string text)
    {
        BenchMessageId.TryParse(Encoding.UTF8.GetBytes(text), out _).Should().BeFalse();
    }

    [Fact]
    public void A_message_push_yields_its_seq_and_the_generator_id()
    {
        var frame = Pushed(Id + " xxxxxxxx");

        var scanned = ServerFrameScanner.Scan(Codecs.ServerFrames.Encode(frame));

        scanned.Kind.Should().Be(ScannedFrameKind.Message);
        scanned.Seq.Should().Be(77);
        scanned.HasBenchId.Should().BeTrue();
        scanned.BenchId.Should().Be(Id);
    }

    [Fact]
    public void A_live_push_with_hop_timestamps_yields_them_as_utc_ticks()
    {
        var accepted = new DateTimeOffset(2026, 11, 25, 20, 0, 0, TimeSpan.Zero).AddTicks(1234);
        var frame = Pushed("x") with
        {
            SentAt = accepted.AddMilliseconds(3),
            AcceptedAt = accepted.ToOffset(TimeSpan.FromHours(2)),
            PushedAt = accepted.AddMilliseconds(5),
        };

        var scanned = ServerFrameScanner.Scan(Codecs.ServerFrames.Encode(frame));

        scanned.Hops.Should().Be(new HopTimestamps(accepted.UtcTicks, accepted.AddMilliseconds(3).UtcTicks, accepted.AddMilliseconds(5).UtcTicks));
        scanned.Hops.IsComplete.Should().BeTrue();
        scanned.BenchId.Should().Be(Id);
    }

    [Fact]
    public void A_push_without_hop_timestamps_has_incomplete_hops()
    {
        ServerFrameScanner.Scan(Codecs.ServerFrames.Encode(Pushed("x"))).Hops.IsComplete.Should().BeFalse();
    }

    [Fact]
    public void An_accepted_reply_yields_the_generator_id()
    {
        var frame = new MessageAcceptedFrame { ClientMsgId = Id.ToString(), ChatId = "g-1", MessageId = "m-1" };

        var scanned = ServerFrameScanner.Scan(Codecs.ServerFrames.Encode(frame));

        scanned.Kind.Should().Be(ScannedFrameKind.MessageAccepted);
        scanned.BenchId.Should().Be(Id);
    }

    [Fact]
    public void The_type_may_come_after_the_fields()
    {
        var json = "{\"seq\":5,\"clientMsgId\":\"" + Id + "\",\"sender\":{\"userId\":\"u\",\"deviceId\":\"d\"},\"type\":\"message\"}";

        var scanned = ServerFrameScanner.Scan(Encoding.UTF8.GetBytes(json));

        scanned.Kind.Should().Be(ScannedFrameKind.Message);
        scanned.Seq.Should().Be(5);
        scanned.HasBenchId.Should().BeTrue();
    }

    [Theory]
    [InlineData("{\"type\":\"sync.done\",\"id\":\"s1\",\"count\":0}")]
    [InlineData("{\"type\":\"error\",\"code\":\"bad_frame\",\"message\":\"x\"}")]
    [InlineData("not json")]
    [InlineData("[1,2]")]
    [InlineData("{\"type\":\"message\",\"seq\":")]
    public void Other_and_malformed_frames_are_left_for_the_full_decoder(string json)
    {
        ServerFrameScanner.Scan(Encoding.UTF8.GetBytes(json)).Kind.Should().Be(ScannedFrameKind.Other);
    }

    [Fact]
    public void A_receipt_push_is_recognised_without_decoding_its_users()
    {
        var receipt = new ReceiptFrame
        {
            ChatId = "g-1",
            State = ConversationStates.Delivered,
            Receipts = [new UserReceipt("u1", 7, DateTimeOffset.UnixEpoch), new UserReceipt("u2", 9, DateTimeOffset.UnixEpoch)],
        };

        var scanned = ServerFrameScanner.Scan(Codecs.ServerFrames.Encode(receipt));

        scanned.Kind.Should().Be(ScannedFrameKind.Receipt);
        scanned.HasBenchId.Should().BeFalse();
    }

    private static MessageFrame Pushed(string body) => new()
    {
        ChatId = "g-1",
        Seq = 77,
        MessageId = "m-1",
        ClientMsgId = Id.ToString(),
        Sender = new DeviceRef("u", "d"),
        Body = body,
        SentAt = DateTimeOffset.UnixEpoch,
    };
}
