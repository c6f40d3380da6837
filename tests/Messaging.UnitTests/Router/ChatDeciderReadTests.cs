using Messaging.Contracts.Delivery;
using Messaging.Contracts.Events;
using Messaging.Contracts.Protocol;
using static Messaging.UnitTests.Router.RouterTestKit;

namespace Messaging.UnitTests.Router;

/// <summary>Read markers (issue 11): <c>MarkRead</c> → <c>MessagesRead</c>.</summary>
public sealed class ChatDeciderReadTests
{
    private readonly FakeDirectory _devices = new FakeDirectory()
        .WithDevices("ana", "phone", "laptop")
        .WithDevices("bo", "phone", "tablet")
        .WithDevices("cy", "phone");

    private ChatDriver GroupWithMessages()
    {
        var chat = new ChatDriver(_devices);
        chat.Run(Group("g1", "ana", "Team", "bo", "cy"));
        chat.Run(Send("g1", "ana"));
        chat.Run(Send("g1", "cy"));
        return chat;
    }

    [Fact]
    public void A_member_marking_read_emits_MessagesRead_at_the_marked_seq_without_taking_a_seq()
    {
        var chat = GroupWithMessages();

        var decision = chat.Run(Read("g1", "bo", 3));

        var read = decision.Events.Should().ContainSingle().Which.Should().BeOfType<MessagesRead>().Subject;
        read.Seq.Should().Be(3);
        read.Actor.Should().Be(Phone("bo"));
        read.OccurredAt.Should().Be(Now);
        chat.State!.LastSeq.Should().Be(3, "a marker takes no seq: the next message is still 4");
        chat.Run(Send("g1", "ana")).Events.Single().Seq.Should().Be(4);
    }

    [Fact]
    public void A_marker_made_with_read_receipts_off_stays_private_in_the_event()
    {
        var chat = GroupWithMessages();

        var hidden = (MessagesRead)chat.Run(Read("g1", "bo", 3) with { Private = true }).Events.Single();
        var shown = (MessagesRead)chat.Run(Read("g1", "cy", 3)).Events.Single();

        (hidden.Private, shown.Private).Should().Be((true, (bool?)null));
    }

    [Fact]
    public void A_read_marker_goes_to_the_readers_own_devices_only()
    {
        var chat = GroupWithMessages();

        var decision = chat.Run(Read("g1", "bo", 2));

        decision.Recipients.Should().ContainSingle().Which.Should().BeEquivalentTo("bo/phone", "bo/tablet");
    }

    [Fact]
    public void A_read_marker_records_the_command_offset_so_a_re_delivered_command_is_skipped()
    {
        var chat = GroupWithMessages();
        chat.Offset = 41;

        chat.Run(Read("g1", "bo", 2));

        chat.State!.LastCommandOffset.Should().Be(41);
    }

    [Fact]
    public void Marking_read_beyond_the_last_seq_is_a_bad_frame()
    {
        var chat = GroupWithMessages();

        var decision = chat.Run(Read("g1", "bo", 4));

        decision.Events.Should().BeEmpty();
        decision.Reply.Should().BeOfType<CommandRejected>().Which.Code.Should().Be(ErrorCodes.BadFrame);
    }

    [Fact]
    public void A_non_member_or_a_removed_member_cannot_mark_read()
    {
        var chat = GroupWithMessages();
        chat.Run(Remove("g1", "ana", "cy"));

        chat.Run(Read("g1", "cy", 2)).RejectionCode.Should().Be(ErrorCodes.NotMember);
        chat.Run(Read("g1", "zed", 2)).RejectionCode.Should().Be(ErrorCodes.NotMember);
    }

    [Fact]
    public void Marking_read_in_a_chat_that_does_not_exist_is_unknown_chat()
    {
        var chat = new ChatDriver(_devices);

        chat.Run(Read("nope", "bo", 1)).RejectionCode.Should().Be(ErrorCodes.UnknownChat);
        chat.State.Should().BeNull();
    }

    [Fact]
    public void A_seq_below_1_is_a_bad_frame()
    {
        var chat = GroupWithMessages();

        chat.Run(Read("g1", "bo", 0)).RejectionCode.Should().Be(ErrorCodes.BadFrame);
    }

    [Fact]
    public void A_lower_or_repeated_marker_is_appended_again_and_applying_it_is_a_maximum()
    {
        var chat = GroupWithMessages();
        chat.Run(Read("g1", "bo", 3));

        var again = chat.Run(Read("g1", "bo", 2));

        again.Events.Should().ContainSingle().Which.Seq.Should().Be(2);
    }
}
