using Messaging.Bench.Marten;
using Messaging.Contracts;
using Messaging.Contracts.Commands;
using Messaging.Contracts.Events;

namespace Messaging.UnitTests.Bench;

public sealed class MartenChatModelTests
{
    private static readonly DateTimeOffset At = new(2026, 11, 25, 20, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Events_above_the_stream_version_are_appended_with_the_last_seq_as_the_expected_version()
    {
        var plan = StreamAppendPlan.For(3, [Message(4), Message(5)]);

        plan.Append.Select(e => e.Seq).Should().Equal(4, 5);
        plan.ExpectedVersion.Should().Be(5);
        plan.Duplicates.Should().Be(0);
        plan.GapAfter.Should().BeNull();
    }

    [Fact]
    public void Events_at_or_below_the_stream_version_are_duplicates_and_skipped()
    {
        var plan = StreamAppendPlan.For(5, [Message(4), Message(5), Message(6)]);

        plan.Append.Select(e => e.Seq).Should().Equal(6);
        plan.Duplicates.Should().Be(2);
        plan.ExpectedVersion.Should().Be(6);
    }

    [Fact]
    public void A_seq_repeated_within_one_page_is_appended_once()
    {
        var plan = StreamAppendPlan.For(0, [Message(1), Message(2), Message(2), Message(3)]);

        plan.Append.Select(e => e.Seq).Should().Equal(1, 2, 3);
        plan.Duplicates.Should().Be(1);
    }

    [Fact]
    public void A_skipped_seq_stops_the_append_at_the_gap()
    {
        var plan = StreamAppendPlan.For(2, [Message(3), Message(5), Message(6)]);

        plan.Append.Select(e => e.Seq).Should().Equal(3);
        plan.GapAfter.Should().Be(3);
    }

    [Fact]
    public void Only_duplicates_leave_nothing_to_append_and_the_version_unchanged()
    {
        var plan = StreamAppendPlan.For(7, [Message(6), Message(7)]);

        plan.Append.Should().BeEmpty();
        plan.ExpectedVersion.Should().Be(7);
        plan.Duplicates.Should().Be(2);
    }

    [Fact]
    public void A_created_chat_holds_its_members_with_their_roles_and_its_seq()
    {
        var state = ChatStateRules.Apply(null, Created("ann", "bob"))!;

        state.Id.Should().Be("g");
        state.Kind.Should().Be("group");
        state.LastSeq.Should().Be(1);
        state.Members.Select(m => (m.UserId, m.Role, m.JoinedSeq)).Should().Equal(("ann", "admin", 1L), ("bob", "member", 1L));
    }

    [Fact]
    public void Removed_and_leaving_members_keep_their_row_with_the_leave_seq_and_a_promoted_member_becomes_admin()
    {
        var state = ChatStateRules.Apply(null, Created("ann", "bob", "cat"));
        state = ChatStateRules.Apply(state, new MemberRemoved { ChatId = "g", Seq = 2, Actor = Actor, OccurredAt = At, UserId = "cat" });
        state = ChatStateRules.Apply(state, new MemberLeft { ChatId = "g", Seq = 3, Actor = Actor, OccurredAt = At, UserId = "ann", PromotedAdmin = "bob" })!;

        state.Members.Select(m => (m.UserId, m.Role, m.LeftSeq)).Should().Equal(("ann", "admin", (long?)3), ("bob", "admin", null), ("cat", "member", (long?)2));
        state.LastSeq.Should().Be(3);
    }

    [Fact]
    public void A_member_added_again_after_leaving_rejoins_as_member_at_the_new_seq()
    {
        var state = ChatStateRules.Apply(null, Created("ann", "bob"));
        state = ChatStateRules.Apply(state, new MemberRemoved { ChatId = "g", Seq = 2, Actor = Actor, OccurredAt = At, UserId = "bob" });
        state = ChatStateRules.Apply(state, new MembersAdded { ChatId = "g", Seq = 3, Actor = Actor, OccurredAt = At, UserIds = ["bob", "ann", "dov"] })!;

        state.Members.Select(m => (m.UserId, m.JoinedSeq, m.LeftSeq)).Should().Equal(("ann", 1L, (long?)null), ("bob", 3L, null), ("dov", 3L, null));
    }

    [Fact]
    public void An_event_of_a_chat_never_created_makes_no_document()
    {
        ChatStateRules.Apply(null, Message(2)).Should().BeNull();
    }

    private static DeviceRef Actor => new("ann", "phone");

    private static ChatCreated Created(params string[] users) => new()
    {
        ChatId = "g",
        Seq = 1,
        Actor = Actor,
        OccurredAt = At,
        Kind = ChatKind.Group,
        Members = [.. users.Select((u, i) => new ChatMember(u, i == 0 ? MemberRole.Admin : MemberRole.Member))],
    };

    private static MessageSent Message(long seq) => new()
    {
        ChatId = "g",
        Seq = seq,
        Actor = Actor,
        OccurredAt = At.AddSeconds(seq),
        MessageId = "m" + seq,
        ClientMsgId = "c" + seq,
        Body = "hi",
    };
}
