using Messaging.Contracts.Protocol;
using Messaging.Edge.Conversation;
using Messaging.ReadModels.Chats;

namespace Messaging.UnitTests.Edge;

public sealed class ReceiptPlannerTests
{
    private static readonly DateTimeOffset At = new(2026, 11, 25, 10, 0, 0, TimeSpan.Zero);

    private static PendingReceipt Pending(string user, long seq, string state = ConversationStates.Delivered, int attempts = 0) =>
        new("c1", user, state, seq, At, attempts);

    [Fact]
    public void A_receipt_covers_the_range_after_what_was_last_sent_for_that_user()
    {
        ReceiptPlanner.Range(Pending("bo", 9), lastSent: 4, maxRange: 1000).Should().Be(new ReceiptRange("c1", "bo", 4, 9));
    }

    [Fact]
    public void Without_a_known_position_a_receipt_looks_back_at_most_the_configured_range()
    {
        ReceiptPlanner.Range(Pending("bo", 9), lastSent: null, maxRange: 1000).Should().Be(new ReceiptRange("c1", "bo", 0, 9));
        ReceiptPlanner.Range(Pending("bo", 5000), lastSent: null, maxRange: 1000).Should().Be(new ReceiptRange("c1", "bo", 4000, 5000));
    }

    [Fact]
    public void A_receipt_at_or_below_what_was_sent_has_nothing_new()
    {
        ReceiptPlanner.Range(Pending("bo", 4), lastSent: 4, maxRange: 1000).Should().BeNull();
        ReceiptPlanner.Range(Pending("bo", 3), lastSent: 4, maxRange: 1000).Should().BeNull();
    }

    /// <summary>Plan over ranges of one chat each answered by the chat's one span target.</summary>
    private static ReceiptPlan Plan(PendingReceipt[] pending, ReceiptRange[] ranges, ReceiptTargets target, Func<string, bool> showsReads, int maxRetries = 3) =>
        ReceiptPlanner.Plan(pending, ranges, new int[pending.Length], [target], showsReads, maxRetries);

    [Fact]
    public void The_ranges_of_a_flush_are_asked_for_once_per_chat_over_their_union()
    {
        ReceiptRange[] ranges = [new("c1", "bo", 4, 9), new("c2", "bo", 0, 3), new("c1", "cy", 2, 7), new("c1", "di", 6, 12)];
        var spanOf = new int[ranges.Length];

        var spans = ReceiptPlanner.Spans(ranges, spanOf);

        spans.Should().Equal(new ReceiptRange("c1", "", 2, 12), new ReceiptRange("c2", "", 0, 3));
        spanOf.Should().Equal(0, 1, 0, 0);
    }

    [Fact]
    public void Receipts_of_many_users_are_grouped_into_one_push_per_chat_and_state_for_every_sender()
    {
        PendingReceipt[] pending = [Pending("bo", 5), Pending("cy", 5), Pending("di", 3)];
        ReceiptRange[] ranges = [new("c1", "bo", 0, 5), new("c1", "cy", 0, 5), new("c1", "di", 0, 3)];

        var plan = Plan(pending, ranges, new(5, ["ana", "bo", "cy"]), _ => true);

        var push = plan.Pushes.Should().ContainSingle().Subject;
        push.Key.Should().Be(("c1", ConversationStates.Delivered));
        push.Value.Senders.Should().Equal("ana", "bo", "cy");
        push.Value.Receipts.Select(r => (r.UserId, r.Seq)).Should().Equal(("bo", 5L), ("cy", 5L), ("di", 3L));
        plan.Sent.Should().Equal((("c1", "bo", ConversationStates.Delivered), 5L), (("c1", "cy", ConversationStates.Delivered), 5L), (("c1", "di", ConversationStates.Delivered), 3L));
        plan.Retry.Should().BeEmpty();
    }

    [Fact]
    public void Each_range_is_cut_at_what_its_chat_has_projected()
    {
        PendingReceipt[] pending = [Pending("bo", 9), new("c2", "bo", ConversationStates.Delivered, 4, At)];
        ReceiptRange[] ranges = [new("c1", "bo", 4, 9), new("c2", "bo", 0, 4)];

        var plan = ReceiptPlanner.Plan(pending, ranges, [0, 1], [new(6, ["ana"]), new(4, ["cy"])], _ => true, maxRetries: 3);

        plan.Pushes[("c1", ConversationStates.Delivered)].Receipts.Single().Seq.Should().Be(6);
        plan.Pushes[("c2", ConversationStates.Delivered)].Senders.Should().Equal("cy");
        plan.Retry.Should().Equal(Pending("bo", 9, attempts: 1));
    }

    [Fact]
    public void A_range_the_read_models_hold_only_in_part_is_sent_up_to_what_they_hold_and_the_rest_retried()
    {
        var plan = Plan([Pending("bo", 9)], [new("c1", "bo", 4, 9)], new(6, ["ana"]), _ => true);

        plan.Pushes[("c1", ConversationStates.Delivered)].Receipts.Single().Seq.Should().Be(6);
        plan.Sent.Single().Seq.Should().Be(6);
        plan.Retry.Should().Equal(Pending("bo", 9, attempts: 1));
    }

    [Fact]
    public void A_range_not_projected_at_all_sends_nothing_and_is_retried_until_the_retries_run_out()
    {
        var plan = Plan([Pending("bo", 9, attempts: 2)], [new("c1", "bo", 4, 9)], new(4, []), _ => true);
        plan.Pushes.Should().BeEmpty();
        plan.Sent.Should().BeEmpty();
        plan.Retry.Should().Equal(Pending("bo", 9, attempts: 3));

        var last = Plan([Pending("bo", 9, attempts: 3)], [new("c1", "bo", 4, 9)], new(0, []), _ => true);
        last.Retry.Should().BeEmpty("given up: history counts it anyway");
    }

    [Fact]
    public void A_range_without_other_senders_is_remembered_but_pushed_to_nobody()
    {
        var plan = Plan([Pending("bo", 9)], [new("c1", "bo", 4, 9)], new(9, []), _ => true);

        plan.Pushes.Should().BeEmpty();
        plan.Sent.Single().Seq.Should().Be(9);
    }

    [Fact]
    public void A_users_own_receipt_alone_for_their_own_messages_is_pushed_to_nobody()
    {
        var plan = Plan([Pending("bo", 9)], [new("c1", "bo", 4, 9)], new(9, ["bo"]), _ => true);

        plan.Pushes.Should().BeEmpty();
        plan.Sent.Single().Seq.Should().Be(9);
    }

    [Fact]
    public void Read_receipts_of_a_user_who_turned_them_off_go_to_nobody()
    {
        var plan = Plan([Pending("bo", 9, ConversationStates.Read)], [new("c1", "bo", 0, 9)], new(9, ["ana"]), u => u != "bo");

        plan.Pushes.Should().BeEmpty();
        plan.Sent.Should().ContainSingle();
    }

    [Fact]
    public void A_sender_who_turned_read_receipts_off_gets_delivered_receipts_but_no_read_receipts()
    {
        PendingReceipt[] pending = [Pending("bo", 9, ConversationStates.Read), Pending("bo", 9)];
        ReceiptRange[] ranges = [new("c1", "bo", 0, 9), new("c1", "bo", 0, 9)];

        var plan = Plan(pending, ranges, new(9, ["ana", "cy"]), u => u != "ana");

        plan.Pushes[("c1", ConversationStates.Read)].Senders.Should().Equal("cy");
        plan.Pushes[("c1", ConversationStates.Delivered)].Senders.Should().Equal("ana", "cy");
    }

    [Fact]
    public void A_push_to_a_sender_this_node_has_not_seen_online_asks_for_a_presence_catch_up_first()
    {
        // Regression: the node routed the receipt to no device, marked it sent and never sent it
        // again; the sender had connected to another node a moment before (ReceiptsTests under load).
        var plan = Plan([Pending("bo", 9)], [new("c1", "bo", 0, 9)], new(9, ["ana", "cy"]), _ => true);

        ReceiptPlanner.AnySenderOffline(plan, u => u == "cy").Should().BeTrue("ana is not online as far as this node knows");
        ReceiptPlanner.AnySenderOffline(plan, _ => true).Should().BeFalse("every sender has an online device: no catch-up");
    }

    [Fact]
    public void A_flush_that_pushes_nothing_asks_for_no_presence_catch_up()
    {
        var plan = Plan([Pending("bo", 9)], [new("c1", "bo", 4, 9)], new(9, []), _ => true);

        ReceiptPlanner.AnySenderOffline(plan, _ => false).Should().BeFalse();
    }

    [Fact]
    public void A_flush_whose_presence_table_could_not_catch_up_goes_again_one_attempt_older_until_its_retries_run_out()
    {
        var postponed = ReceiptPlanner.Postponed([Pending("bo", 9), Pending("cy", 7, attempts: 2), Pending("dee", 5, attempts: 3)], maxRetries: 3);

        postponed.Select(p => (p.UserId, p.Seq, p.Attempts)).Should().Equal(("bo", 9L, 1), ("cy", 7L, 3));
    }
}
