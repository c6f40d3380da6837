using System.Text;
using Messaging.Contracts;
using Messaging.Contracts.Delivery;
using Messaging.Contracts.Events;
using Messaging.Contracts.Protocol;
using Messaging.Edge.Delivery;
using Messaging.Edge.Sockets;

namespace Messaging.UnitTests.Edge;

/// <summary>Edge's side of issue 11: the new frames' checks and the frames each device is pushed.</summary>
public sealed class ContentFramesTests
{
    private static readonly FrameLimits Limits = new(MaxBodyBytes: 16, MaxIdLength: 64, HistoryMaxPageSize: 100, MaxAttachmentBytes: 1000);
    private static readonly DeviceRef Ana = new("ana", "phone");
    private static readonly DateTimeOffset At = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static FrameCheck Check(string json) => FrameValidator.Validate(Encoding.UTF8.GetBytes(json), "ana", Limits);

    [Theory]
    [InlineData("""{"type":"message.edit","id":"1","chatId":"c","messageId":"m","body":"fixed"}""")]
    [InlineData("""{"type":"message.edit","id":"1","chatId":"c","messageId":"m","payloads":{"ana/phone":"QUJD"}}""")]
    [InlineData("""{"type":"message.delete","id":"1","chatId":"c","messageId":"m"}""")]
    [InlineData("""{"type":"message.react","chatId":"c","messageId":"m","emoji":"👍"}""")]
    [InlineData("""{"type":"message.react","chatId":"c","messageId":"m","emoji":null}""")]
    [InlineData("""{"type":"message.react","chatId":"c","messageId":"m"}""")]
    [InlineData("""{"type":"message.send","chatId":"c","clientMsgId":"x","body":"re","replyTo":"m"}""")]
    [InlineData("""{"type":"message.send","chatId":"c","clientMsgId":"x","payloads":{"ana/phone":"QUJD","bo/phone":"REVG"}}""")]
    [InlineData("""{"type":"message.delete","id":"1","chatId":"c","messageId":"m","messageSeq":7}""")]
    [InlineData("""{"type":"message.edit","id":"1","chatId":"c","messageId":"m","body":"fixed","messageSeq":7}""")]
    [InlineData("""{"type":"message.react","chatId":"c","messageId":"m","emoji":"👍","messageSeq":1}""")]
    [InlineData("""{"type":"message.send","chatId":"c","clientMsgId":"x","body":"re","replyTo":"m","replyToSeq":7}""")]
    public void Well_formed_content_frames_pass(string json) => Check(json).IsValid.Should().BeTrue(Check(json).ErrorMessage);

    [Theory]
    [InlineData("""{"type":"message.edit","chatId":"c","messageId":"m"}""", ErrorCodes.BadFrame)]
    [InlineData("""{"type":"message.edit","chatId":"c","messageId":"","body":"x"}""", ErrorCodes.BadFrame)]
    [InlineData("""{"type":"message.edit","chatId":"c","messageId":"m","body":"seventeen bytes!!"}""", ErrorCodes.TooLarge)]
    [InlineData("""{"type":"message.edit","chatId":"c","messageId":"m","body":"x","payloads":{"ana/phone":"QUJD"}}""", ErrorCodes.BadFrame)]
    [InlineData("""{"type":"message.delete","chatId":"c"}""", ErrorCodes.BadFrame)]
    [InlineData("""{"type":"message.react","chatId":"c","messageId":"m","emoji":""}""", ErrorCodes.BadFrame)]
    [InlineData("""{"type":"message.react","chatId":"c","messageId":"m","emoji":"0123456789012345678901234567890123"}""", ErrorCodes.BadFrame)]
    [InlineData("""{"type":"message.send","chatId":"c","clientMsgId":"x","body":"re","replyTo":"not an id"}""", ErrorCodes.BadFrame)]
    [InlineData("""{"type":"message.send","chatId":"c","clientMsgId":"x","body":"both","payloads":{"ana/phone":"QUJD"}}""", ErrorCodes.BadFrame)]
    [InlineData("""{"type":"message.send","chatId":"c","clientMsgId":"x","payloads":{}}""", ErrorCodes.BadFrame)]
    [InlineData("""{"type":"message.send","chatId":"c","clientMsgId":"x","payloads":{"phone":"QUJD"}}""", ErrorCodes.BadFrame)]
    [InlineData("""{"type":"message.send","chatId":"c","clientMsgId":"x","payloads":{"ana/phone":"not base64"}}""", ErrorCodes.BadFrame)]
    [InlineData("""{"type":"message.send","chatId":"c","clientMsgId":"x","payloads":{"ana/phone":"QUJDREVGR0hJSktMTU5PUFFS"}}""", ErrorCodes.TooLarge)]
    [InlineData("""{"type":"message.delete","chatId":"c","messageId":"m","messageSeq":0}""", ErrorCodes.BadFrame)]
    [InlineData("""{"type":"message.edit","chatId":"c","messageId":"m","body":"x","messageSeq":-1}""", ErrorCodes.BadFrame)]
    [InlineData("""{"type":"message.react","chatId":"c","messageId":"m","emoji":"👍","messageSeq":0}""", ErrorCodes.BadFrame)]
    [InlineData("""{"type":"message.send","chatId":"c","clientMsgId":"x","body":"re","replyToSeq":7}""", ErrorCodes.BadFrame)]
    [InlineData("""{"type":"message.send","chatId":"c","clientMsgId":"x","body":"re","replyTo":"m","replyToSeq":0}""", ErrorCodes.BadFrame)]
    public void Malformed_content_frames_are_refused_with_their_code(string json, string code)
    {
        var check = Check(json);

        check.IsValid.Should().BeFalse();
        check.ErrorCode.Should().Be(code);
    }

    [Fact]
    public void Each_device_is_pushed_only_its_own_ciphertext_of_an_encrypted_message_and_edit()
    {
        var payloads = new Dictionary<string, string> { ["ana/phone"] = "QQ==", ["bo/phone"] = "Qg==" };
        var sent = new EventRouted
        {
            Devices = ["ana/phone", "bo/phone"],
            Event = new MessageSent { ChatId = "c", Seq = 2, Actor = Ana, OccurredAt = At, MessageId = "m", ClientMsgId = "cm", Body = "", Payloads = payloads, ReplyTo = "m0" },
        };
        var edited = new EventRouted
        {
            Devices = ["bo/phone"],
            Event = new MessageEdited { ChatId = "c", Seq = 3, Actor = Ana, OccurredAt = At, MessageId = "m", MessageSeq = 2, Body = "", Payloads = payloads },
        };

        var forBo = (MessageFrame)DeliveryFrames.ForDevice(DeliveryFrames.ToFrame(sent)!, DeliveryFrames.PayloadsOf(sent)!, "bo/phone");
        var forAna = (MessageFrame)DeliveryFrames.ForDevice(DeliveryFrames.ToFrame(sent)!, DeliveryFrames.PayloadsOf(sent)!, "ana/phone");
        var editForBo = (MessageEditedFrame)DeliveryFrames.ForDevice(DeliveryFrames.ToFrame(edited)!, DeliveryFrames.PayloadsOf(edited)!, "bo/phone");

        (forBo.Payload, forAna.Payload, editForBo.Payload).Should().Be(("Qg==", "QQ==", "Qg=="));
        forBo.ReplyTo.Should().Be("m0");
        var json = Encoding.UTF8.GetString(Messaging.Contracts.Serialization.Codecs.ServerFrames.Encode(forBo));
        json.Should().NotContain("QQ==", "bo's frame carries nothing of ana's ciphertext");
        DeliveryFrames.PayloadsOf(new EventRouted { Devices = [], Event = (MessageSent)sent.Event with { Payloads = null, Body = "plain" } }).Should().BeNull("a plain message keeps one shared frame");
    }

    [Fact]
    public void Edits_deletes_reactions_and_a_stale_device_list_become_their_frames()
    {
        DeliveryFrames.ToFrame(new MessageDeleted { ChatId = "c", Seq = 4, Actor = Ana, OccurredAt = At, MessageId = "m", MessageSeq = 2 })
            .Should().BeEquivalentTo(new MessageDeletedFrame { ChatId = "c", Seq = 4, MessageId = "m", MessageSeq = 2, Actor = Ana, DeletedAt = At });
        DeliveryFrames.ToFrame(new ReactionChanged { ChatId = "c", Seq = 5, Actor = Ana, OccurredAt = At, MessageId = "m", MessageSeq = 2, Emoji = "👍" })
            .Should().BeEquivalentTo(new ReactionFrame { ChatId = "c", Seq = 5, MessageId = "m", MessageSeq = 2, Actor = Ana, Emoji = "👍", At = At });
        var error = (ErrorFrame)DeliveryFrames.ToFrame(new CommandRejected
        {
            Devices = ["ana/phone"],
            ChatId = "c",
            CommandId = "k",
            RequestId = "r1",
            Code = ErrorCodes.DeviceListChanged,
            Message = "re-encrypt",
            CurrentDevices = ["ana/phone", "bo/tablet"],
        })!;
        error.Devices.Should().Equal("ana/phone", "bo/tablet");
        error.Id.Should().Be("r1");
    }
}
