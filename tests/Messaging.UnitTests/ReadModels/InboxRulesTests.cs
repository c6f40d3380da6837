using Messaging.ReadModels.Inbox;

namespace Messaging.UnitTests.ReadModels;

/// <summary>Who gets what, unread and cursors (docs/protocol.md): the rules the inbox queries run in SQL.</summary>
public sealed class InboxRulesTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    private static ChatEventFacts Message(long seq, string sender = "bo", int minutes = 0) => new(seq, T0.AddMinutes(minutes), IsMessage: true, sender);

    private static ChatEventFacts Membership(long seq, string actor = "bo") => new(seq, T0, IsMessage: false, actor);

    [Fact]
    public void A_first_device_gets_everything_since_its_user_joined_even_before_it_existed()
    {
        // Issue 10: a member added before any of their devices connected got nothing on their first sync.
        var joined = new MembershipRange(5, null);

        InboxRules.IsPending(Membership(5), joined, cursor: 0, historyFrom: null).Should().BeTrue("the user learns they were added");
        InboxRules.IsPending(Message(6, minutes: -60), joined, 0, null).Should().BeTrue();
        InboxRules.IsPending(Message(4), joined, 0, null).Should().BeFalse("sent before the user joined");
    }

    [Fact]
    public void A_companion_device_starts_at_its_registration()
    {
        var member = new MembershipRange(1, null);
        var registered = T0.AddMinutes(10);

        InboxRules.IsPending(Message(2, minutes: 9), member, 0, registered).Should().BeFalse();
        InboxRules.IsPending(Message(3, minutes: 10), member, 0, registered).Should().BeTrue("at its registration is included");
        InboxRules.IsPending(Message(4, minutes: 11), member, 0, registered).Should().BeTrue();
    }

    [Fact]
    public void A_removed_member_gets_the_removal_and_nothing_after_it()
    {
        var removed = new MembershipRange(1, LeftSeq: 7);

        InboxRules.IsPending(Membership(7, actor: "ana"), removed, 0, null).Should().BeTrue();
        InboxRules.IsPending(Message(8), removed, 0, null).Should().BeFalse();
    }

    [Fact]
    public void Nothing_at_or_below_the_cursor_is_pending()
    {
        var member = new MembershipRange(1, null);

        InboxRules.IsPending(Message(9), member, cursor: 9, null).Should().BeFalse();
        InboxRules.IsPending(Message(10), member, cursor: 9, null).Should().BeTrue();
    }

    [Fact]
    public void Unread_counts_other_members_messages_after_the_cursor_not_own_messages_nor_membership_changes()
    {
        // Issue 10: a one-message direct chat showed unread 2 to its sender (ChatCreated and their own message).
        var member = new MembershipRange(1, null);

        InboxRules.IsUnread(Membership(1, actor: "ana"), "bo", member, 0, null).Should().BeFalse();
        InboxRules.IsUnread(Message(2, sender: "bo"), "bo", member, 0, null).Should().BeFalse("bo sent it, from whichever device");
        InboxRules.IsUnread(Message(2, sender: "bo"), "ana", member, 0, null).Should().BeTrue();
        InboxRules.IsUnread(Message(2, sender: "bo"), "ana", member, cursor: 2, null).Should().BeFalse();
        InboxRules.IsUnread(Message(2, sender: "bo", minutes: -1), "ana", member, 0, historyFrom: T0).Should().BeFalse("before the companion's registration");
    }

    [Theory]
    [InlineData(0, 5, 5)]
    [InlineData(5, 9, 9)]
    [InlineData(9, 5, 9)]
    [InlineData(9, 9, 9)]
    [InlineData(9, 0, 9)]
    public void A_cursor_only_moves_forward(long cursor, long acked, long expected) =>
        InboxRules.Advance(cursor, acked).Should().Be(expected);

    [Fact]
    public void Acks_in_any_order_leave_the_cursor_at_the_highest()
    {
        var random = new Random(10);
        for (var run = 0; run < 100; run++)
        {
            var acks = Enumerable.Range(0, 20).Select(_ => (long)random.Next(1, 1_000)).ToArray();
            var cursor = 0L;
            foreach (var ack in acks)
            {
                var next = InboxRules.Advance(cursor, ack);
                next.Should().BeGreaterThanOrEqualTo(cursor);
                cursor = next;
            }

            cursor.Should().Be(acks.Max());
        }
    }
}
