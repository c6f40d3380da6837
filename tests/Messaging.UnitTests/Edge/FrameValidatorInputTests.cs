using System.Text;
using Messaging.Contracts.Protocol;
using Messaging.Edge.Sockets;

namespace Messaging.UnitTests.Edge;

/// <summary>Ids and text: what Edge refuses up front so nothing is accepted and then lost (issue 8).</summary>
public sealed class FrameValidatorInputTests
{
    private static readonly FrameLimits Limits = new(MaxBodyBytes: 1024, MaxIdLength: 128, HistoryMaxPageSize: 100, MaxAttachmentBytes: 1000);

    private static FrameCheck Check(string json) => FrameValidator.Validate(Encoding.UTF8.GetBytes(json), "ana", Limits);

    [Theory]
    [InlineData("""{"type":"message.send","chatId":"c","clientMsgId":"m","body":"a\u0000b"}""")]
    [InlineData("""{"type":"message.send","chatId":"c","clientMsgId":"m","body":"lone \ud800 high"}""")]
    [InlineData("""{"type":"message.send","chatId":"c","clientMsgId":"m","body":"lone \udc00 low"}""")]
    [InlineData("""{"type":"chat.create","members":["bo"],"title":"t\u0000"}""")]
    [InlineData("""{"type":"chat.create","members":["bo"],"title":"\ud83d"}""")]
    [InlineData("""{"type":"media.upload","contentType":"image/png\u0000","size":1}""")]
    [InlineData("""{"type":"media.upload","contentType":"image/png","size":1,"fileName":"a\u0000.png"}""")]
    [InlineData("""{"type":"media.upload","contentType":"image/png","size":1,"fileName":"\udfff.png"}""")]
    [InlineData("""{"type":"message.send","chatId":"c","clientMsgId":"m","body":"x","attachments":[{"key":"k\u0000","contentType":"a/b","size":1}]}""")]
    [InlineData("""{"type":"message.send","chatId":"c","clientMsgId":"m","body":"x","attachments":[{"key":"k","contentType":"a/\u0000","size":1}]}""")]
    [InlineData("""{"type":"message.send","chatId":"c","clientMsgId":"m","body":"x","attachments":[{"key":"k","contentType":"a/b","size":1,"fileName":"\u0000"}]}""")]
    [InlineData("""{"type":"ping","id":"r\u0000"}""")]
    public void Text_postgres_cannot_store_is_a_bad_frame(string json)
    {
        var check = Check(json);
        check.IsValid.Should().BeFalse();
        check.ErrorCode.Should().Be(ErrorCodes.BadFrame);
    }

    [Theory]
    [InlineData("""{"type":"message.send","chatId":"c c","clientMsgId":"m","body":"x"}""")]
    [InlineData("""{"type":"message.send","chatId":"c\n","clientMsgId":"m","body":"x"}""")]
    [InlineData("""{"type":"message.send","chatId":"c/1","clientMsgId":"m","body":"x"}""")]
    [InlineData("""{"type":"message.send","toUserId":"bo:1","clientMsgId":"m","body":"x"}""")]
    [InlineData("""{"type":"message.send","toUserId":"bo/x","clientMsgId":"m","body":"x"}""")]
    [InlineData("""{"type":"message.send","toUserId":"bö","clientMsgId":"m","body":"x"}""")]
    [InlineData("""{"type":"message.send","chatId":"c","clientMsgId":"m 1","body":"x"}""")]
    [InlineData("""{"type":"message.send","chatId":"c","clientMsgId":"m\u0000","body":"x"}""")]
    [InlineData("""{"type":"chat.create","members":["bo","c y"]}""")]
    [InlineData("""{"type":"members.add","chatId":"c","userIds":["a:b"]}""")]
    [InlineData("""{"type":"members.remove","chatId":"c","userId":"a\u0000"}""")]
    [InlineData("""{"type":"admin.grant","chatId":"c","userId":"a/b"}""")]
    [InlineData("""{"type":"chat.leave","chatId":"c\t"}""")]
    [InlineData("""{"type":"ack","chatId":"c\u0000","seq":1}""")]
    [InlineData("""{"type":"history","chatId":"<script>"}""")]
    [InlineData("""{"type":"device.remove","deviceId":"d/1"}""")]
    [InlineData("""{"type":"presence.get","userIds":["a b"]}""")]
    public void Ids_outside_the_id_character_set_are_a_bad_frame(string json)
    {
        var check = Check(json);
        check.IsValid.Should().BeFalse();
        check.ErrorCode.Should().Be(ErrorCodes.BadFrame);
        check.ErrorMessage.Should().Contain("not a valid id");
    }

    [Fact]
    public void A_direct_chat_id_longer_than_one_user_id_is_valid() =>
        Check($$"""{"type":"ack","chatId":"d:{{new string('a', 128)}}:{{new string('b', 128)}}","seq":1}""").IsValid.Should().BeTrue();

    [Fact]
    public void A_title_over_the_title_length_is_too_large()
    {
        var title = new string('t', Messaging.Contracts.TextRules.MaxTitleLength + 1);
        Check($$"""{"type":"chat.create","members":["bo"],"title":"{{title}}"}""").ErrorCode.Should().Be(ErrorCodes.TooLarge);
        Check($$"""{"type":"chat.create","members":["bo"],"title":"{{title[1..]}}"}""").IsValid.Should().BeTrue();
    }

    [Fact]
    public void Control_characters_other_than_nul_and_paired_surrogates_are_accepted_in_text() =>
        Check("""{"type":"message.send","chatId":"c","clientMsgId":"m","body":"tab\t \u0001 \ud83d\ude00 ok"}""").IsValid.Should().BeTrue();
}
