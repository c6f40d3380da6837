using Messaging.Contracts;
using Messaging.Contracts.Commands;
using Messaging.Contracts.Delivery;
using Messaging.Contracts.Events;
using Messaging.Contracts.Protocol;
using Messaging.Edge.Delivery;

namespace Messaging.UnitTests.Edge;

public sealed class DeliveryFramesTests
{
    private static readonly DeviceRef Ana = new("ana", "ana-phone");
    private static readonly DateTimeOffset At = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_routed_message_becomes_a_message_frame()
    {
        var frame = DeliveryFrames.ToFrame(new EventRouted
        {
            Devices = ["ana/phone"],
            Event = new MessageSent { ChatId = "c", Seq = 5, Actor = Ana, OccurredAt = At, MessageId = "m", ClientMsgId = "cm", Body = "hi" },
        });
        frame.Should().BeEquivalentTo(new MessageFrame { ChatId = "c", Seq = 5, MessageId = "m", ClientMsgId = "cm", Sender = Ana, Body = "hi", SentAt = At });
    }

    [Fact]
    public void A_routed_message_pushed_with_hop_timestamps_carries_its_acceptance_and_push_times()
    {
        var pushedAt = At.AddMilliseconds(9);
        var frame = DeliveryFrames.ToFrame(
            new EventRouted
            {
                Devices = ["ana/phone"],
                AcceptedAt = At.AddMilliseconds(-4),
                Event = new MessageSent { ChatId = "c", Seq = 5, Actor = Ana, OccurredAt = At, MessageId = "m", ClientMsgId = "cm", Body = "hi" },
            },
            pushedAt);

        frame.Should().BeEquivalentTo(new MessageFrame { ChatId = "c", Seq = 5, MessageId = "m", ClientMsgId = "cm", Sender = Ana, Body = "hi", SentAt = At, AcceptedAt = At.AddMilliseconds(-4), PushedAt = pushedAt });
    }

    [Fact]
    public void Membership_events_become_chat_updated_frames_named_like_the_read_model_kinds()
    {
        Update(new ChatCreated { ChatId = "c", Seq = 1, Actor = Ana, OccurredAt = At, Kind = ChatKind.Group, Title = "t", Members = [new ChatMember("ana", MemberRole.Admin), new ChatMember("bo", MemberRole.Member)] })
            .Should().BeEquivalentTo(new { Change = "created", Title = "t", UserIds = new List<string> { "ana", "bo" } });
        Update(new MemberRemoved { ChatId = "c", Seq = 2, Actor = Ana, OccurredAt = At, UserId = "bo" }).Change.Should().Be("member.removed");
        Update(new MemberLeft { ChatId = "c", Seq = 3, Actor = Ana, OccurredAt = At, UserId = "ana", PromotedAdmin = "cy" }).UserIds.Should().Equal("ana", "cy");
        Update(new AdminGranted { ChatId = "c", Seq = 4, Actor = Ana, OccurredAt = At, UserId = "cy" }).Change.Should().Be("admin.granted");
    }

    [Fact]
    public void Refusals_and_duplicate_notices_answer_the_original_request_id()
    {
        DeliveryFrames.ToFrame(new CommandRejected { Devices = ["ana/phone"], ChatId = "c", CommandId = "k", RequestId = "r1", Code = ErrorCodes.NotMember, Message = "no" })
            .Should().Be(new ErrorFrame("r1", ErrorCodes.NotMember, "no"));
        DeliveryFrames.ToFrame(new DuplicateSendIgnored { Devices = ["ana/phone"], ChatId = "c", ClientMsgId = "cm", RequestId = "r2", Seq = 7, MessageId = "m" })
            .Should().BeEquivalentTo(new MessageAcceptedFrame { Id = "r2", ChatId = "c", ClientMsgId = "cm", MessageId = "m", Seq = 7 });
    }

    private static ChatUpdatedFrame Update(ChatEvent e) =>
        DeliveryFrames.ToFrame(new EventRouted { Devices = ["ana/phone"], Event = e }).Should().BeOfType<ChatUpdatedFrame>().Subject;
}
