using System.Text;
using Messaging.Bench.Connections;
using Messaging.Bench.Load;

namespace Messaging.UnitTests.Bench;

public sealed class DeliveryTrackerTests
{
    private readonly LoadPlan _plan = LoadPlan.Create(Scenario.GroupFanout, users: 3, groupSize: 3, edges: 2, "t");

    [Fact]
    public void Every_member_device_owes_each_accepted_message_until_it_arrives()
    {
        var tracker = new DeliveryTracker(_plan, 1024);
        var from = tracker.SnapshotNextIndices();
        var first = Send(tracker, step: 1);
        var second = Send(tracker, step: 1);
        var to = tracker.SnapshotNextIndices();
        Accept(tracker, first);
        Accept(tracker, second);

        Deliver(tracker, device: 0, first, seq: 2);
        Deliver(tracker, device: 1, first, seq: 2);
        Deliver(tracker, device: 2, first, seq: 2);
        Deliver(tracker, device: 0, second, seq: 3);

        var (expected, missing, accepted) = tracker.Reconcile(from, to);
        accepted.Should().Be(2);
        expected.Should().Be(6);
        missing.Should().Be(2);
        tracker.Delivered.Should().Be(4);
    }

    [Fact]
    public void A_second_arrival_at_the_same_device_is_a_duplicate_of_its_step()
    {
        var tracker = new DeliveryTracker(_plan, 1024);
        var id = Send(tracker, step: 2);

        Deliver(tracker, device: 1, id, seq: 2);
        Deliver(tracker, device: 1, id, seq: 2);

        tracker.Duplicates(2).Should().Be(1);
        tracker.Delivered.Should().Be(1);
    }

    [Fact]
    public void Messages_never_accepted_are_not_owed()
    {
        var tracker = new DeliveryTracker(_plan, 1024);
        var from = tracker.SnapshotNextIndices();
        Send(tracker, step: 1);

        tracker.Reconcile(from, tracker.SnapshotNextIndices()).Expected.Should().Be(0);
    }

    [Fact]
    public void Latency_is_recorded_only_for_messages_inside_the_measured_window()
    {
        var tracker = new DeliveryTracker(_plan, 1024);
        var now = DeliveryTracker.NowMicros();
        tracker.SetWindow(1, now - 1_000_000, now);
        var inside = Send(tracker, step: 1, intendedMicros: now - 500_000);
        var warmup = Send(tracker, step: 1, intendedMicros: now - 2_000_000);

        Deliver(tracker, device: 0, inside, seq: 2);
        Deliver(tracker, device: 0, warmup, seq: 3);

        tracker.Latency(1).TotalCount.Should().Be(1);
        tracker.Latency(1).Max.Should().BeGreaterThanOrEqualTo(500_000);
        tracker.MeasuredDeliveries(1).Should().Be(1);
    }

    [Fact]
    public void A_measured_push_with_hop_timestamps_records_one_value_per_hop_in_order()
    {
        var tracker = new DeliveryTracker(_plan, 1024);
        var now = DeliveryTracker.NowMicros();
        tracker.SetWindow(1, now - 1_000_000, now + 1_000_000);
        var id = Send(tracker, step: 1, intendedMicros: now);
        var accepted = DateTimeOffset.UtcNow.AddMilliseconds(-300);

        tracker.Record(0, ServerFrameScanner.Scan(Encoding.UTF8.GetBytes(
            "{\"type\":\"message\",\"seq\":2,\"clientMsgId\":\"" + id + "\",\"sentAt\":\"" + accepted.AddMilliseconds(100).ToString("O") + "\",\"acceptedAt\":\"" + accepted.ToString("O")
            + "\",\"pushedAt\":\"" + accepted.AddMilliseconds(250).ToString("O") + "\"}")));

        var hops = tracker.HopLatency(1);
        hops.Should().OnlyContain(h => h.TotalCount == 1);
        hops[Hops.EdgeToRouter].Max.Should().BeInRange(99_000, 101_000);
        hops[Hops.RouterToEdge].Max.Should().BeInRange(149_000, 151_000);
        hops[Hops.EdgeToClient].Max.Should().BeGreaterThanOrEqualTo(49_000);
    }

    [Fact]
    public void Acks_carry_the_highest_seq_per_chat_once()
    {
        var tracker = new DeliveryTracker(_plan, 1024);
        Deliver(tracker, device: 2, Send(tracker, step: 1), seq: 5);
        Deliver(tracker, device: 2, Send(tracker, step: 1), seq: 4);
        var acks = new List<(int Chat, long Seq)>();

        tracker.CollectAcks(2, acks);
        tracker.CollectAcks(2, acks);

        acks.Should().Equal((0, 5L));
    }

    [Fact]
    public void Messages_without_a_generator_id_are_counted_as_foreign()
    {
        var tracker = new DeliveryTracker(_plan, 1024);

        tracker.Record(0, ServerFrameScanner.Scan("{\"type\":\"message\",\"seq\":1,\"clientMsgId\":\"smoke-1\"}"u8));

        tracker.Foreign.Should().Be(1);
        tracker.Delivered.Should().Be(0);
    }

    [Fact]
    public void Receipts_are_counted_apart_from_messages()
    {
        var tracker = new DeliveryTracker(_plan, 1024);

        tracker.Record(0, ServerFrameScanner.Scan("{\"type\":\"receipt\",\"chatId\":\"c\",\"state\":\"delivered\",\"receipts\":[]}"u8));

        tracker.ReceiptFrames.Should().Be(1);
        tracker.ReceiptBytes.Should().BeGreaterThan(0);
        tracker.Foreign.Should().Be(0);
        tracker.Delivered.Should().Be(0);
    }

    private static BenchMessageId Send(DeliveryTracker tracker, int step, long intendedMicros = 0) =>
        new(step, 0, tracker.NextIndex(0), intendedMicros);

    private static void Accept(DeliveryTracker tracker, BenchMessageId id) =>
        tracker.Record(0, ServerFrameScanner.Scan(Encoding.UTF8.GetBytes("{\"type\":\"message.accepted\",\"clientMsgId\":\"" + id + "\",\"chatId\":\"c\",\"messageId\":\"m\"}")));

    private static void Deliver(DeliveryTracker tracker, int device, BenchMessageId id, long seq) =>
        tracker.Record(device, ServerFrameScanner.Scan(Encoding.UTF8.GetBytes("{\"type\":\"message\",\"seq\":" + seq + ",\"clientMsgId\":\"" + id + "\"}")));
}
