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

    [Fact]
    public void Receipts_of_many_users_are_grouped_into_one_push_per_sender()
    {
        PendingReceipt[] pending = [Pending("bo", 5), Pending("cy", 5), Pending("di", 3)];
        ReceiptRange[] ranges = [new("c1", "bo", 0, 5), new("c1", "cy", 0, 5), new("c1", "di", 0, 3)];
        ReceiptTargets[] targets = [new(5, ["ana", "cy"]), new(5, ["ana", "bo"]), new(5, ["ana"])];

        var plan = ReceiptPlanner.Plan(pending, ranges, targets, _ => true, maxRetries: 3);

        plan.Pushes.Should().HaveCount(3);
        plan.Pushes[("c1", ConversationStates.Delivered, "ana")].Select(r => (r.UserId, r.Seq)).Should().Equal(("bo", 5L), ("cy", 5L), ("di", 3L));
        plan.Pushes[("c1", ConversationStates.Delivered, "cy")].Select(r => r.UserId).Should().Equal("bo");
        plan.Pushes[("c1", ConversationStates.Delivered, "bo")].Select(r => r.UserId).Should().Equal("cy");
        plan.Sent.Should().Equal((("c1", "bo", ConversationStates.Delivered), 5L), (("c1", "cy", ConversationStates.Delivered), 5L), (("c1", "di", ConversationStates.Delivered), 3L));
        plan.Retry.Should().BeEmpty();
    }

    [Fact]
    public void A_range_the_read_models_hold_only_in_part_is_sent_up_to_what_they_hold_and_the_rest_retried()
    {
        var plan = ReceiptPlanner.Plan([Pending("bo", 9)], [new("c1", "bo", 4, 9)], [new(6, ["ana"])], _ => true, maxRetries: 3);

        plan.Pushes[("c1", ConversationStates.Delivered, "ana")].Single().Seq.Should().Be(6);
        plan.Sent.Single().Seq.Should().Be(6);
        plan.Retry.Should().Equal(Pending("bo", 9, attempts: 1));
    }

    [Fact]
    public void A_range_not_projected_at_all_sends_nothing_and_is_retried_until_the_retries_run_out()
    {
        var plan = ReceiptPlanner.Plan([Pending("bo", 9, attempts: 2)], [new("c1", "bo", 4, 9)], [new(4, [])], _ => true, maxRetries: 3);
        plan.Pushes.Should().BeEmpty();
        plan.Sent.Should().BeEmpty();
        plan.Retry.Should().Equal(Pending("bo", 9, attempts: 3));

        var last = ReceiptPlanner.Plan([Pending("bo", 9, attempts: 3)], [new("c1", "bo", 4, 9)], [new(0, [])], _ => true, maxRetries: 3);
        last.Retry.Should().BeEmpty("given up: history counts it anyway");
    }

    [Fact]
    public void A_range_without_other_senders_is_remembered_but_pushed_to_nobody()
    {
        var plan = ReceiptPlanner.Plan([Pending("bo", 9)], [new("c1", "bo", 4, 9)], [new(9, [])], _ => true, maxRetries: 3);

        plan.Pushes.Should().BeEmpty();
        plan.Sent.Single().Seq.Should().Be(9);
    }

    [Fact]
    public void Read_receipts_of_a_user_who_turned_them_off_go_to_nobody()
    {
        var plan = ReceiptPlanner.Plan([Pending("bo", 9, ConversationStates.Read)], [new("c1", "bo", 0, 9)], [new(9, ["ana"])], u => u != "bo", maxRetries: 3);

        plan.Pushes.Should().BeEmpty();
        plan.Sent.Should().ContainSingle();
    }

    [Fact]
    public void A_sender_who_turned_read_receipts_off_gets_delivered_receipts_but_no_read_receipts()
    {
        PendingReceipt[] pending = [Pending("bo", 9, ConversationStates.Read), Pending("bo", 9)];
        ReceiptRange[] ranges = [new("c1", "bo", 0, 9), new("c1", "bo", 0, 9)];
        ReceiptTargets[] targets = [new(9, ["ana", "cy"]), new(9, ["ana", "cy"])];

        var plan = ReceiptPlanner.Plan(pending, ranges, targets, u => u != "ana", maxRetries: 3);

        plan.Pushes.Keys.Should().BeEquivalentTo([
            ("c1", ConversationStates.Read, "cy"),
            ("c1", ConversationStates.Delivered, "ana"),
            ("c1", ConversationStates.Delivered, "cy"),
        ]);
    }
}
