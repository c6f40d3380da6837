using Messaging.Contracts.Commands;
using Messaging.Contracts.Delivery;
using Messaging.Contracts.Events;
using Messaging.Contracts.Protocol;
using Messaging.Router.Chats;
using static Messaging.UnitTests.Router.RouterTestKit;

namespace Messaging.UnitTests.Router;

public sealed class ChatDeciderTests
{
    private readonly FakeDirectory _devices = new FakeDirectory()
        .WithDevices("ana", "phone", "laptop")
        .WithDevices("bo", "phone")
        .WithDevices("cy", "phone", "tablet")
        .WithDevices("di", "phone")
        .WithDevices("ed", "phone")
        .WithDevices("fay", "phone");

    private ChatDriver NewGroup(params string[] others)
    {
        var chat = new ChatDriver(_devices);
        chat.Run(Group("g1", "ana", "Team", others)).Events.Should().ContainSingle();
        return chat;
    }

    private static void ShouldBeRejected(Decision decision, string code, string originDevice = "ana/phone")
    {
        decision.Events.Should().BeEmpty();
        var rejected = decision.Reply.Should().BeOfType<CommandRejected>().Subject;
        rejected.Code.Should().Be(code);
        rejected.Devices.Should().Equal(originDevice);
    }

    // ---- group creation ----

    [Fact]
    public void Creating_a_group_emits_ChatCreated_at_seq_1_with_the_creator_as_admin()
    {
        var chat = new ChatDriver(_devices);

        var decision = chat.Run(Group("g1", "ana", "Team", "bo", "cy"));

        var created = decision.Events.Should().ContainSingle().Which.Should().BeOfType<ChatCreated>().Subject;
        created.Seq.Should().Be(1);
        created.Kind.Should().Be(ChatKind.Group);
        created.Title.Should().Be("Team");
        created.Members.Should().Equal(new ChatMember("ana", MemberRole.Admin), new ChatMember("bo", MemberRole.Member), new ChatMember("cy", MemberRole.Member));
        decision.Recipients.Should().ContainSingle().Which.Should().BeEquivalentTo("ana/phone", "ana/laptop", "bo/phone", "cy/phone", "cy/tablet");
        decision.Reply.Should().BeNull();
        chat.State!.NextSeq.Should().Be(2);
        chat.State.AdminCount.Should().Be(1);
    }

    [Fact]
    public void Two_users_with_the_same_device_id_are_two_recipients_named_by_their_addresses()
    {
        // Issue 8: ana and bo both call their device "phone"; as bare ids they collapsed into one
        // recipient that either of them could read and acknowledge.
        var chat = new ChatDriver(new FakeDirectory().WithDevices("ana", "phone").WithDevices("bo", "phone").WithDevices("cy", "phone"));

        var created = chat.Run(Group("g1", "ana", "Team", "bo")).Recipients.Single();
        var sent = chat.Run(Send("g1", "bo")).Recipients.Single();

        created.Should().Equal("ana/phone", "bo/phone");
        sent.Should().Equal("ana/phone", "bo/phone");
        sent.Should().NotContain("cy/phone", "cy is not a member, whatever her device is called");
    }

    [Fact]
    public void Creating_a_group_counts_the_creator_once_and_ignores_repeated_member_ids()
    {
        var chat = new ChatDriver(_devices);

        var created = (ChatCreated)chat.Run(Group("g1", "ana", "Team", "bo", "ana", "bo", "cy")).Events.Single();

        created.Members.Select(m => m.UserId).Should().Equal("ana", "bo", "cy");
    }

    [Fact]
    public void Creating_a_group_of_exactly_the_member_limit_succeeds_and_one_more_is_refused_with_too_many_members()
    {
        new ChatDriver(_devices).Run(Group("g1", "ana", "Team", "bo", "cy", "di", "ed")).Events.Should().ContainSingle();

        var chat = new ChatDriver(_devices);
        ShouldBeRejected(chat.Run(Group("g2", "ana", "Team", "bo", "cy", "di", "ed", "fay")), ErrorCodes.TooManyMembers);
        chat.State.Should().BeNull();
    }

    [Fact]
    public void Creating_a_group_without_a_title_is_refused_as_a_bad_frame()
    {
        ShouldBeRejected(new ChatDriver(_devices).Run(Group("g1", "ana", "  ", "bo")), ErrorCodes.BadFrame);
        ShouldBeRejected(new ChatDriver(_devices).Run(Group("g1", "ana", null, "bo")), ErrorCodes.BadFrame);
    }

    [Fact]
    public void Creating_a_chat_whose_id_exists_is_refused_with_chat_exists_and_changes_nothing()
    {
        var chat = NewGroup("bo");

        ShouldBeRejected(chat.Run(Group("g1", "ana", "Other", "cy")), ErrorCodes.ChatExists);

        chat.State!.Title.Should().Be("Team");
        chat.State.Members.Select(m => m.UserId).Should().Equal("ana", "bo");
        chat.State.NextSeq.Should().Be(2);
    }

    [Fact]
    public void Group_ids_in_the_direct_chat_namespace_are_refused_as_bad_frames()
    {
        ShouldBeRejected(new ChatDriver(_devices).Run(Group("d:ana:bo", "ana", "Sneaky", "bo")), ErrorCodes.BadFrame);
    }

    // ---- direct chats ----

    [Fact]
    public void The_first_direct_message_creates_the_chat_then_sends_the_message()
    {
        var chat = new ChatDriver(_devices);

        var decision = chat.Run(Send("d:ana:bo", "bo", body: "hello", peer: "ana"));

        decision.Events.Should().HaveCount(2);
        var created = decision.Events[0].Should().BeOfType<ChatCreated>().Subject;
        created.Seq.Should().Be(1);
        created.Kind.Should().Be(ChatKind.Direct);
        created.Members.Select(m => m.UserId).Should().BeEquivalentTo("ana", "bo");
        var sent = decision.Events[1].Should().BeOfType<MessageSent>().Subject;
        sent.Seq.Should().Be(2);
        sent.Body.Should().Be("hello");
        decision.Recipients.Should().HaveCount(2).And.AllSatisfy(r => r.Should().BeEquivalentTo("ana/phone", "ana/laptop", "bo/phone"));
    }

    [Fact]
    public void A_direct_chat_is_never_created_twice_when_both_users_write_first()
    {
        var chat = new ChatDriver(_devices);
        chat.Run(Send("d:ana:bo", "bo", peer: "ana"));

        var second = chat.Run(Send("d:ana:bo", "ana", peer: "bo"));

        second.Events.Should().ContainSingle().Which.Should().BeOfType<MessageSent>().Which.Seq.Should().Be(3);
        ShouldBeRejected(chat.Run(new CreateChat
        {
            CommandId = "c",
            ChatId = "d:ana:bo",
            Origin = Phone("ana"),
            OriginNode = 0,
            IssuedAt = Now,
            Kind = ChatKind.Direct,
            Members = ["bo"],
        }), ErrorCodes.ChatExists);
    }

    [Theory]
    [InlineData("d:bo:ana", "ana", "bo")]
    [InlineData("d:ana:cy", "ana", "bo")]
    [InlineData("d:ana:ana", "ana", "ana")]
    [InlineData("d:a:b:c", "a", "b:c")]
    public void A_direct_chat_id_not_derived_from_its_two_users_is_refused_as_a_bad_frame(string chatId, string sender, string peer)
    {
        var chat = new ChatDriver(_devices);

        ShouldBeRejected(chat.Run(Send(chatId, sender, peer: peer)), ErrorCodes.BadFrame, sender + "/phone");

        chat.State.Should().BeNull();
    }

    [Fact]
    public void A_too_large_first_direct_message_creates_no_chat()
    {
        var chat = new ChatDriver(_devices);

        ShouldBeRejected(chat.Run(Send("d:ana:bo", "ana", body: new string('x', 17), peer: "bo")), ErrorCodes.TooLarge);

        chat.State.Should().BeNull();
    }

    [Fact]
    public void A_direct_chat_can_also_be_created_explicitly_with_its_derived_id()
    {
        var chat = new ChatDriver(_devices);

        var decision = chat.Run(new CreateChat
        {
            CommandId = "c",
            ChatId = "d:ana:bo",
            Origin = Phone("bo"),
            OriginNode = 0,
            IssuedAt = Now,
            Kind = ChatKind.Direct,
            Members = ["ana"],
        });

        decision.Events.Should().ContainSingle().Which.Should().BeOfType<ChatCreated>().Which.Kind.Should().Be(ChatKind.Direct);
    }

    [Fact]
    public void Membership_commands_on_a_direct_chat_are_refused_as_bad_frames()
    {
        var chat = new ChatDriver(_devices);
        chat.Run(Send("d:ana:bo", "ana", peer: "bo"));

        ShouldBeRejected(chat.Run(Add("d:ana:bo", "ana", "cy")), ErrorCodes.BadFrame);
        ShouldBeRejected(chat.Run(Remove("d:ana:bo", "ana", "bo")), ErrorCodes.BadFrame);
        ShouldBeRejected(chat.Run(Leave("d:ana:bo", "ana")), ErrorCodes.BadFrame);
        ShouldBeRejected(chat.Run(Grant("d:ana:bo", "ana", "bo")), ErrorCodes.BadFrame);
    }

    // ---- messages ----

    [Fact]
    public void Sending_to_a_chat_that_does_not_exist_is_refused_with_unknown_chat()
    {
        ShouldBeRejected(new ChatDriver(_devices).Run(Send("nope", "ana")), ErrorCodes.UnknownChat);
    }

    [Fact]
    public void Messages_get_dense_increasing_seqs_after_the_creation()
    {
        var chat = NewGroup("bo");

        var seqs = Enumerable.Range(0, 5).Select(i => chat.Run(Send("g1", i % 2 == 0 ? "ana" : "bo")).Events.Single().Seq).ToList();

        seqs.Should().Equal(2, 3, 4, 5, 6);
    }

    [Fact]
    public void A_message_reaches_every_device_of_every_member_including_the_senders_other_devices()
    {
        var chat = NewGroup("bo", "cy");

        var decision = chat.Run(Send("g1", "ana", body: "yo"));
        var sent = (MessageSent)decision.Events.Single();

        decision.Recipients.Single().Should().BeEquivalentTo("ana/phone", "ana/laptop", "bo/phone", "cy/phone", "cy/tablet");
        sent.Actor.Should().Be(Phone("ana"));
        sent.OccurredAt.Should().Be(Now);
    }

    [Fact]
    public void A_retried_send_emits_nothing_and_tells_the_origin_device_the_original_seq_and_messageId()
    {
        var chat = NewGroup("bo");
        var first = Send("g1", "bo", clientMsgId: "c-1");
        var original = (MessageSent)chat.Run(first).Events.Single();

        var retry = Send("g1", "bo", clientMsgId: "c-1") with { MessageId = "a-new-id" };
        var decision = chat.Run(retry);

        decision.Events.Should().BeEmpty();
        var duplicate = decision.Reply.Should().BeOfType<DuplicateSendIgnored>().Subject;
        duplicate.Seq.Should().Be(original.Seq);
        duplicate.MessageId.Should().Be(original.MessageId);
        duplicate.ClientMsgId.Should().Be("c-1");
        duplicate.RequestId.Should().Be(retry.RequestId);
        duplicate.Devices.Should().Equal("bo/phone");
        chat.State!.NextSeq.Should().Be(3);
    }

    [Fact]
    public void The_same_clientMsgId_in_another_chat_is_a_different_message()
    {
        var g1 = NewGroup("bo");
        var g2 = new ChatDriver(_devices);
        g2.Run(Group("g2", "ana", "Other", "bo"));

        g1.Run(Send("g1", "ana", clientMsgId: "c-1")).Events.Should().ContainSingle();
        g2.Run(Send("g2", "ana", clientMsgId: "c-1")).Events.Should().ContainSingle();
    }

    [Fact]
    public void Only_the_most_recent_clientMsgIds_are_remembered_per_chat()
    {
        var chat = NewGroup("bo");
        foreach (var id in new[] { "c-1", "c-2", "c-3", "c-4" })
        {
            chat.Run(Send("g1", "ana", clientMsgId: id));
        }

        chat.State!.RecentCount.Should().Be(3);
        chat.Run(Send("g1", "ana", clientMsgId: "c-4")).Reply.Should().BeOfType<DuplicateSendIgnored>();
        chat.Run(Send("g1", "ana", clientMsgId: "c-1")).Events.Should().ContainSingle("c-1 fell out of the bounded window");
    }

    [Fact]
    public void A_body_of_exactly_the_limit_in_utf8_bytes_is_accepted_and_one_byte_more_is_refused_with_too_large()
    {
        var chat = NewGroup("bo");

        chat.Run(Send("g1", "ana", body: new string('x', 16))).Events.Should().ContainSingle();
        chat.Run(Send("g1", "ana", body: new string('é', 8))).Events.Should().ContainSingle("8 × 2 bytes = 16");
        ShouldBeRejected(chat.Run(Send("g1", "ana", body: new string('é', 8) + "x")), ErrorCodes.TooLarge);
        ShouldBeRejected(chat.Run(Send("g1", "ana", body: "😀😀😀😀x")), ErrorCodes.TooLarge);
        chat.State!.NextSeq.Should().Be(4);
    }

    [Fact]
    public void A_non_member_cannot_send_and_only_its_own_device_hears_the_refusal()
    {
        var chat = NewGroup("bo");

        var decision = chat.Run(Send("g1", "cy", originNode: 3));

        ShouldBeRejected(decision, ErrorCodes.NotMember, "cy/phone");
        chat.State!.NextSeq.Should().Be(2);
    }

    [Fact]
    public void A_refusal_echoes_the_command_id_and_request_id()
    {
        var chat = NewGroup("bo");
        var send = Send("g1", "cy");

        var rejected = (CommandRejected)chat.Run(send).Reply!;

        rejected.CommandId.Should().Be(send.CommandId);
        rejected.RequestId.Should().Be(send.RequestId);
        rejected.ChatId.Should().Be("g1");
        rejected.Message.Should().NotBeNullOrWhiteSpace();
    }

    [Fact]
    public void An_empty_message_without_attachments_is_refused_as_a_bad_frame_but_an_attachment_alone_is_fine()
    {
        var chat = NewGroup("bo");

        ShouldBeRejected(chat.Run(Send("g1", "ana", body: "")), ErrorCodes.BadFrame);
        chat.Run(Send("g1", "ana", body: "") with { Attachments = [new Attachment("k", "image/png", 10, null)] })
            .Events.Should().ContainSingle().Which.Should().BeOfType<MessageSent>().Which.Attachments.Should().ContainSingle();
    }

    [Theory]
    [InlineData("", "cmd", "c", "m")]
    [InlineData("g1", "", "c", "m")]
    [InlineData("g1", "cmd", "", "m")]
    [InlineData("g1", "cmd", "c", "")]
    public void A_send_missing_an_id_is_refused_as_a_bad_frame(string chatId, string commandId, string clientMsgId, string messageId)
    {
        var chat = NewGroup("bo");

        var decision = chat.Run(Send("g1", "ana") with { ChatId = chatId, CommandId = commandId, ClientMsgId = clientMsgId, MessageId = messageId });

        ShouldBeRejected(decision, ErrorCodes.BadFrame);
    }

    [Fact]
    public void A_command_without_an_origin_device_is_refused_as_a_bad_frame()
    {
        var chat = NewGroup("bo");

        var decision = chat.Run(Send("g1", "ana") with { Origin = new("ana", "") });

        decision.Events.Should().BeEmpty();
        decision.RejectionCode.Should().Be(ErrorCodes.BadFrame);
    }

    // ---- membership ----

    [Fact]
    public void An_admin_adds_members_and_the_new_members_devices_receive_the_event()
    {
        var chat = NewGroup("bo");

        var decision = chat.Run(Add("g1", "ana", "cy", "bo", "cy"));
        var added = (MembersAdded)decision.Events.Single();

        added.Seq.Should().Be(2);
        added.UserIds.Should().Equal("cy");
        decision.Recipients.Single().Should().BeEquivalentTo("ana/phone", "ana/laptop", "bo/phone", "cy/phone", "cy/tablet");
        chat.State!.IsMember("cy").Should().BeTrue();
    }

    [Fact]
    public void Adding_only_existing_members_changes_nothing_and_refuses_nothing()
    {
        var chat = NewGroup("bo");

        var decision = chat.Run(Add("g1", "ana", "bo", "ana"));

        decision.Events.Should().BeEmpty();
        decision.Reply.Should().BeNull();
        chat.State!.NextSeq.Should().Be(2);
    }

    [Fact]
    public void Adding_beyond_the_member_limit_is_refused_with_too_many_members()
    {
        var chat = NewGroup("bo", "cy", "di");

        chat.Run(Add("g1", "ana", "ed")).Events.Should().ContainSingle();
        ShouldBeRejected(chat.Run(Add("g1", "ana", "fay")), ErrorCodes.TooManyMembers);
        chat.State!.Members.Should().HaveCount(5);
    }

    [Fact]
    public void Members_who_are_not_admins_cannot_add_remove_or_grant()
    {
        var chat = NewGroup("bo", "cy");

        ShouldBeRejected(chat.Run(Add("g1", "bo", "di")), ErrorCodes.NotAdmin, "bo/phone");
        ShouldBeRejected(chat.Run(Remove("g1", "bo", "cy")), ErrorCodes.NotAdmin, "bo/phone");
        ShouldBeRejected(chat.Run(Grant("g1", "bo", "cy")), ErrorCodes.NotAdmin, "bo/phone");
        chat.State!.NextSeq.Should().Be(2);
    }

    [Fact]
    public void Outsiders_cannot_administer_and_unknown_chats_cannot_be_administered()
    {
        var chat = NewGroup("bo");

        ShouldBeRejected(chat.Run(Add("g1", "cy", "di")), ErrorCodes.NotMember, "cy/phone");
        ShouldBeRejected(new ChatDriver(_devices).Run(Add("nope", "ana", "bo")), ErrorCodes.UnknownChat);
        ShouldBeRejected(new ChatDriver(_devices).Run(Remove("nope", "ana", "bo")), ErrorCodes.UnknownChat);
        ShouldBeRejected(new ChatDriver(_devices).Run(Leave("nope", "ana")), ErrorCodes.UnknownChat);
        ShouldBeRejected(new ChatDriver(_devices).Run(Grant("nope", "ana", "bo")), ErrorCodes.UnknownChat);
    }

    [Fact]
    public void A_removed_member_hears_of_the_removal_on_every_device()
    {
        var chat = NewGroup("bo", "cy");

        var decision = chat.Run(Remove("g1", "ana", "cy"));
        var removed = (MemberRemoved)decision.Events.Single();

        removed.UserId.Should().Be("cy");
        decision.Recipients.Single().Should().Contain(["cy/phone", "cy/tablet"]);
        chat.State!.IsMember("cy").Should().BeFalse();
    }

    [Fact]
    public void Removed_member_receives_nothing_sent_after_removal_and_cannot_send()
    {
        var chat = NewGroup("bo", "cy");
        chat.Run(Remove("g1", "ana", "cy"));

        var recipients = chat.Run(Send("g1", "bo")).Recipients.Single();

        recipients.Should().NotContain(["cy/phone", "cy/tablet"]);
        ShouldBeRejected(chat.Run(Send("g1", "cy")), ErrorCodes.NotMember, "cy/phone");
    }

    [Fact]
    public void Removing_a_non_member_is_refused_with_not_member_and_removing_oneself_is_a_bad_frame()
    {
        var chat = NewGroup("bo");

        ShouldBeRejected(chat.Run(Remove("g1", "ana", "cy")), ErrorCodes.NotMember);
        ShouldBeRejected(chat.Run(Remove("g1", "ana", "ana")), ErrorCodes.BadFrame);
    }

    [Fact]
    public void An_admin_can_remove_another_admin()
    {
        var chat = NewGroup("bo");
        chat.Run(Grant("g1", "ana", "bo"));

        chat.Run(Remove("g1", "bo", "ana")).Events.Should().ContainSingle().Which.Should().BeOfType<MemberRemoved>();

        chat.State!.AdminCount.Should().Be(1);
    }

    [Fact]
    public void Any_member_may_leave_and_their_devices_hear_it()
    {
        var chat = NewGroup("bo", "cy");

        var decision = chat.Run(Leave("g1", "cy"));
        var left = (MemberLeft)decision.Events.Single();

        left.UserId.Should().Be("cy");
        left.PromotedAdmin.Should().BeNull();
        decision.Recipients.Single().Should().Contain("cy/tablet");
        chat.State!.IsMember("cy").Should().BeFalse();
        ShouldBeRejected(chat.Run(Leave("g1", "cy")), ErrorCodes.NotMember, "cy/phone");
    }

    [Fact]
    public void When_the_last_admin_leaves_the_longest_standing_member_is_promoted()
    {
        var chat = NewGroup("bo");
        chat.Run(Add("g1", "ana", "cy"));

        var left = (MemberLeft)chat.Run(Leave("g1", "ana")).Events.Single();

        left.PromotedAdmin.Should().Be("bo");
        chat.State!.TryGetMember("bo", out var bo).Should().BeTrue();
        bo.Role.Should().Be(MemberRole.Admin);
        chat.Run(Add("g1", "bo", "di")).Events.Should().ContainSingle("the promoted member administers the chat");
    }

    [Fact]
    public void When_another_admin_remains_nobody_is_promoted()
    {
        var chat = NewGroup("bo", "cy");
        chat.Run(Grant("g1", "ana", "cy"));

        var left = (MemberLeft)chat.Run(Leave("g1", "ana")).Events.Single();

        left.PromotedAdmin.Should().BeNull();
        chat.State!.AdminCount.Should().Be(1);
    }

    [Fact]
    public void When_the_last_member_leaves_the_chat_stays_but_nobody_can_send()
    {
        var chat = NewGroup();

        var left = (MemberLeft)chat.Run(Leave("g1", "ana")).Events.Single();

        left.PromotedAdmin.Should().BeNull();
        chat.State!.Members.Should().BeEmpty();
        ShouldBeRejected(chat.Run(Send("g1", "ana")), ErrorCodes.NotMember);
        ShouldBeRejected(chat.Run(Group("g1", "ana", "Again")), ErrorCodes.ChatExists);
    }

    [Fact]
    public void An_admin_grants_admin_once_and_granting_it_again_is_a_no_op()
    {
        var chat = NewGroup("bo");

        var granted = (AdminGranted)chat.Run(Grant("g1", "ana", "bo")).Events.Single();
        var again = chat.Run(Grant("g1", "ana", "bo"));

        granted.UserId.Should().Be("bo");
        granted.Seq.Should().Be(2);
        again.Events.Should().BeEmpty();
        again.Reply.Should().BeNull();
        chat.State!.AdminCount.Should().Be(2);
        ShouldBeRejected(chat.Run(Grant("g1", "ana", "cy")), ErrorCodes.NotMember);
    }

    [Fact]
    public void A_removed_member_can_be_added_back_and_receives_again()
    {
        var chat = NewGroup("bo");
        chat.Run(Remove("g1", "ana", "bo"));
        chat.Run(Add("g1", "ana", "bo"));

        var decision = chat.Run(Send("g1", "bo"));

        decision.Events.Single().Seq.Should().Be(4);
        decision.Recipients.Single().Should().Contain("bo/phone");
    }

    [Fact]
    public void Membership_changes_share_the_dense_seq_with_messages()
    {
        var chat = NewGroup("bo");

        var seqs = new[]
        {
            chat.Run(Send("g1", "ana")),
            chat.Run(Add("g1", "ana", "cy")),
            chat.Run(Send("g1", "cy")),
            chat.Run(Grant("g1", "ana", "cy")),
            chat.Run(Remove("g1", "cy", "bo")),
            chat.Run(Leave("g1", "ana")),
            chat.Run(Send("g1", "cy")),
        }.Select(d => d.Events.Single().Seq);

        seqs.Should().Equal(2, 3, 4, 5, 6, 7, 8);
    }

    // ---- offsets ----

    [Fact]
    public void A_decision_that_emits_events_records_the_command_offset_and_a_refusal_does_not()
    {
        var chat = new ChatDriver(_devices) { Offset = 40 };
        chat.Run(Group("g1", "ana", "Team", "bo"));
        chat.State!.LastCommandOffset.Should().Be(40);

        chat.Run(Send("g1", "cy"));
        chat.State.LastCommandOffset.Should().Be(40);

        chat.Run(Send("g1", "bo"));
        chat.State.LastCommandOffset.Should().Be(42);
    }

    [Fact]
    public void A_user_without_registered_devices_is_a_member_who_simply_has_no_recipients()
    {
        var chat = new ChatDriver(_devices);
        chat.Run(Group("g1", "ana", "Team", "ghost"));

        var recipients = chat.Run(Send("g1", "ghost", origin: new("ghost", "ghost-web"))).Recipients.Single();

        recipients.Should().BeEquivalentTo("ana/phone", "ana/laptop");
    }
}
