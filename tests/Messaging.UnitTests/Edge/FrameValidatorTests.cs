using System.Text;
using Messaging.Contracts.Protocol;
using Messaging.Edge.Sockets;

namespace Messaging.UnitTests.Edge;

public sealed class FrameValidatorTests
{
    private static readonly FrameLimits Limits = new(MaxBodyBytes: 64, MaxIdLength: 16, HistoryMaxPageSize: 100, MaxAttachmentBytes: 1000) { MaxUserIds = 3, MaxPresenceUsers = 2 };

    private static FrameCheck Check(string json) => FrameValidator.Validate(Encoding.UTF8.GetBytes(json), "ana", Limits);

    [Theory]
    [InlineData("{not json")]
    [InlineData("[1,2]")]
    [InlineData("\"ping\"")]
    [InlineData("{}")]
    [InlineData("""{"type":42}""")]
    [InlineData("""{"type":"message.send","chatId":"c","body":"x"}""")]
    [InlineData("""{"type":"message.send","chatId":"c","clientMsgId":"m","body":7}""")]
    [InlineData("""{"type":"message.send","clientMsgId":"m","body":"x"}""")]
    [InlineData("""{"type":"message.send","chatId":"c","toUserId":"bo","clientMsgId":"m","body":"x"}""")]
    [InlineData("""{"type":"message.send","toUserId":"ana","clientMsgId":"m","body":"x"}""")]
    [InlineData("""{"type":"message.send","chatId":"","clientMsgId":"m","body":"x"}""")]
    [InlineData("""{"type":"message.send","chatId":"c","clientMsgId":"m","body":null}""")]
    [InlineData("""{"type":"ack","chatId":"c","seq":0}""")]
    [InlineData("""{"type":"ack","chatId":"c","seq":"1"}""")]
    [InlineData("""{"type":"history","chatId":"c","limit":101}""")]
    [InlineData("""{"type":"history","chatId":"c","beforeSeq":0}""")]
    [InlineData("""{"type":"sync","limit":0}""")]
    [InlineData("""{"type":"members.add","chatId":"c","userIds":[]}""")]
    [InlineData("""{"type":"members.add","chatId":"c","userIds":[""]}""")]
    [InlineData("""{"type":"chat.create","members":"bo"}""")]
    [InlineData("""{"type":"media.upload","contentType":"","size":1}""")]
    [InlineData("""{"type":"media.upload","contentType":"image/png","size":0}""")]
    [InlineData("""{"type":"device.remove","deviceId":"this-id-is-far-too-long"}""")]
    [InlineData("""{"type":"ping","id":""}""")]
    [InlineData("""{"type":"presence.watch","id":"w","userIds":[]}""")]
    [InlineData("""{"type":"presence.get","id":"g","userIds":["this-id-is-far-too-long"]}""")]
    [InlineData("""{"type":"presence.unwatch","id":"u"}""")]
    public void A_malformed_frame_is_a_bad_frame(string json)
    {
        var check = Check(json);
        check.IsValid.Should().BeFalse();
        check.ErrorCode.Should().Be(ErrorCodes.BadFrame);
        check.ErrorMessage.Should().NotBeNullOrEmpty();
    }

    [Fact]
    public void An_unknown_type_is_reported_with_the_frames_id()
    {
        var check = Check("""{"id":"r9","type":"teleport"}""");
        check.Should().Be(FrameCheck.Invalid("r9", ErrorCodes.UnknownType, "unknown frame type 'teleport'"));
    }

    [Fact]
    public void A_bad_frame_still_echoes_an_id_it_could_read()
    {
        Check("""{"id":"r1","type":"ack","chatId":"c"}""").Id.Should().Be("r1");
        Check("""{"type":"ack","id":"r2","seq":"x"}""").Id.Should().Be("r2");
        Check("""{"id":"r3","type":"ack",""").Id.Should().Be("r3");
        Check("""{"id":5,"type":"ack"}""").Id.Should().BeNull();
    }

    [Theory]
    [InlineData("""{"type":"message.send","chatId":"c","clientMsgId":"m","body":"0123456789012345678901234567890123456789012345678901234567890123456789"}""")]
    [InlineData("""{"type":"message.send","chatId":"c","clientMsgId":"m","body":"x","attachments":[{"key":"m/1","contentType":"a/b","size":1001,"fileName":"f"}]}""")]
    [InlineData("""{"type":"media.upload","contentType":"video/mp4","size":1001}""")]
    [InlineData("""{"type":"presence.watch","id":"w","userIds":["a","b","c"]}""")]
    [InlineData("""{"type":"presence.get","id":"g","userIds":["a","b","c"]}""")]
    public void Oversize_content_is_too_large(string json) => Check(json).ErrorCode.Should().Be(ErrorCodes.TooLarge);

    [Fact]
    public void The_body_limit_counts_utf8_bytes_not_characters()
    {
        // 22 three-byte characters = 66 bytes > 64.
        var body = new string('€', 22);
        Check($$"""{"type":"message.send","chatId":"c","clientMsgId":"m","body":"{{body}}"}""").ErrorCode.Should().Be(ErrorCodes.TooLarge);
        Check($$"""{"type":"message.send","chatId":"c","clientMsgId":"m","body":"{{body[..21]}}"}""").IsValid.Should().BeTrue();
    }

    [Fact]
    public void Too_many_user_ids_in_one_frame_is_too_many_members() =>
        Check("""{"type":"members.add","chatId":"c","userIds":["a","b","c","d"]}""").ErrorCode.Should().Be(ErrorCodes.TooManyMembers);

    [Theory]
    [InlineData("""{"type":"ping"}""", typeof(PingFrame))]
    [InlineData("""{"type":"chat.create","id":"1","members":[],"title":"solo"}""", typeof(CreateChatFrame))]
    [InlineData("""{"type":"message.send","id":"1","chatId":"c","clientMsgId":"m","body":""}""", typeof(SendMessageFrame))]
    [InlineData("""{"type":"message.send","toUserId":"bo","clientMsgId":"m","body":"hi","attachments":[{"key":"m/1","contentType":"image/png","size":5,"fileName":"a.png"}]}""", typeof(SendMessageFrame))]
    [InlineData("""{"type":"ack","chatId":"c","seq":3}""", typeof(AckFrame))]
    [InlineData("""{"type":"sync","id":"s"}""", typeof(SyncFrame))]
    [InlineData("""{"type":"history","id":"h","chatId":"c","beforeSeq":10,"limit":100}""", typeof(HistoryFrame))]
    [InlineData("""{"type":"members.add","chatId":"c","userIds":["a","b","c"]}""", typeof(AddMembersFrame))]
    [InlineData("""{"type":"members.remove","chatId":"c","userId":"a"}""", typeof(RemoveMemberFrame))]
    [InlineData("""{"type":"chat.leave","chatId":"c"}""", typeof(LeaveChatFrame))]
    [InlineData("""{"type":"admin.grant","chatId":"c","userId":"a"}""", typeof(GrantAdminFrame))]
    [InlineData("""{"type":"device.remove","deviceId":"d"}""", typeof(RemoveDeviceFrame))]
    [InlineData("""{"type":"media.upload","contentType":"image/png","size":1000,"fileName":"a.png"}""", typeof(UploadMediaFrame))]
    [InlineData("""{"chatId":"c","seq":3,"type":"ack"}""", typeof(AckFrame))]
    [InlineData("""{"type":"presence.get","id":"g","userIds":["a","b"]}""", typeof(GetPresenceFrame))]
    [InlineData("""{"type":"presence.watch","id":"w","userIds":["a"]}""", typeof(WatchPresenceFrame))]
    [InlineData("""{"type":"presence.unwatch","id":"u","userIds":["a"]}""", typeof(UnwatchPresenceFrame))]
    public void A_well_formed_frame_is_valid(string json, Type type)
    {
        var check = Check(json);
        check.ErrorMessage.Should().BeNull();
        check.Frame.Should().BeOfType(type);
    }
}
