using Messaging.Contracts;
using Messaging.Contracts.Commands;
using Messaging.Contracts.Delivery;
using Messaging.Contracts.Protocol;
using Messaging.Router.Chats;
using static Messaging.UnitTests.Router.RouterTestKit;

namespace Messaging.UnitTests.Router;

/// <summary>The Router never trusts a command: it refuses what Edge would, whoever wrote the command.</summary>
public sealed class ChatDeciderInputTests
{
    private readonly FakeDirectory _devices = new FakeDirectory().WithDevices("ana", "ana-phone").WithDevices("bo", "bo-phone");

    private ChatDriver GroupWithAnaAndBo()
    {
        var chat = new ChatDriver(_devices, new ChatLimits(MaxGroupMembers: 10, MaxBodyBytes: 1024, RecentClientMsgIds: 3));
        chat.Run(Group("g1", "ana", "Team", "bo")).Events.Should().ContainSingle();
        return chat;
    }

    private static void ShouldBeBadFrame(Decision decision)
    {
        decision.Events.Should().BeEmpty();
        decision.Reply.Should().BeOfType<CommandRejected>().Which.Code.Should().Be(ErrorCodes.BadFrame);
    }

    // Built in code and passed by index: xUnit replaces lone surrogates in serialized theory data.
    private static readonly string[] Unstorable = ["nul \0 inside", "lone \uD800 high", "lone \uDC00 low"];

    public static TheoryData<int> UnstorableTexts() => [0, 1, 2];

    [Theory]
    [MemberData(nameof(UnstorableTexts))]
    public void A_send_with_an_unstorable_body_is_refused_and_takes_no_seq(int text)
    {
        var body = Unstorable[text];
        var chat = GroupWithAnaAndBo();
        var seq = chat.State!.LastSeq;
        ShouldBeBadFrame(chat.Run(Send("g1", "ana", body: body)));
        chat.State!.LastSeq.Should().Be(seq);
    }

    [Theory]
    [MemberData(nameof(UnstorableTexts))]
    public void A_group_with_an_unstorable_title_is_not_created(int text) =>
        ShouldBeBadFrame(new ChatDriver(_devices).Run(Group("g1", "ana", Unstorable[text], "bo")));

    [Fact]
    public void A_group_title_over_the_title_length_is_refused() =>
        ShouldBeBadFrame(new ChatDriver(_devices).Run(Group("g1", "ana", new string('t', TextRules.MaxTitleLength + 1), "bo")));

    [Theory]
    [MemberData(nameof(UnstorableTexts))]
    public void An_attachment_with_unstorable_text_is_refused(int index)
    {
        var text = Unstorable[index];
        var chat = GroupWithAnaAndBo();
        ShouldBeBadFrame(chat.Run(Send("g1", "ana") with { Attachments = [new Attachment("k", "image/png", 1, text)] }));
        ShouldBeBadFrame(chat.Run(Send("g1", "ana") with { Attachments = [new Attachment(text, "image/png", 1)] }));
        ShouldBeBadFrame(chat.Run(Send("g1", "ana") with { Attachments = [new Attachment("k", text, 1)] }));
    }

    [Theory]
    [InlineData("m 1")]
    [InlineData("m/1")]
    [InlineData("é")]
    [InlineData("")]
    public void A_send_whose_client_message_id_is_not_an_id_is_refused(string clientMsgId) =>
        ShouldBeBadFrame(GroupWithAnaAndBo().Run(Send("g1", "ana", clientMsgId: clientMsgId)));

    [Fact]
    public void A_client_message_id_longer_than_an_id_is_refused() =>
        ShouldBeBadFrame(GroupWithAnaAndBo().Run(Send("g1", "ana", clientMsgId: new string('m', Ids.MaxLength + 1))));

    [Theory]
    [InlineData("bo:x")]
    [InlineData("bo/x")]
    [InlineData("b o")]
    [InlineData("b\0")]
    public void User_ids_outside_the_id_character_set_are_refused_in_every_command(string userId)
    {
        ShouldBeBadFrame(new ChatDriver(_devices).Run(Group("g2", "ana", "Team", userId)));
        ShouldBeBadFrame(GroupWithAnaAndBo().Run(Add("g1", "ana", userId)));
        ShouldBeBadFrame(GroupWithAnaAndBo().Run(Remove("g1", "ana", userId)));
        ShouldBeBadFrame(GroupWithAnaAndBo().Run(Grant("g1", "ana", userId)));
        ShouldBeBadFrame(new ChatDriver(_devices).Run(Send("d:ana:" + userId, "ana", peer: userId)));
    }

    [Theory]
    [InlineData("g 1")]
    [InlineData("g/1")]
    [InlineData("g\n1")]
    public void A_chat_id_outside_the_id_character_set_is_refused(string chatId) =>
        ShouldBeBadFrame(new ChatDriver(_devices).Run(Group(chatId, "ana", "Team", "bo")));

    [Fact]
    public void An_origin_outside_the_id_character_sets_is_refused()
    {
        ShouldBeBadFrame(GroupWithAnaAndBo().Run(Send("g1", "ana", origin: new DeviceRef("an a", "ana-phone"))));
        ShouldBeBadFrame(GroupWithAnaAndBo().Run(Send("g1", "ana", origin: new DeviceRef("ana", "ana/phone"))));
    }

    [Fact]
    public void A_request_id_with_nul_is_refused() =>
        ShouldBeBadFrame(GroupWithAnaAndBo().Run(Send("g1", "ana") with { RequestId = "r\0" }));

    [Fact]
    public void A_well_formed_send_with_paired_surrogates_and_control_characters_is_accepted() =>
        GroupWithAnaAndBo().Run(Send("g1", "ana", body: "tab\t \u0001 \U0001F600")).Events.Should().ContainSingle();
}
