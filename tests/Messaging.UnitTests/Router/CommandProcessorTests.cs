using System.Text;
using Confluent.Kafka;
using Messaging.Contracts.Commands;
using Messaging.Contracts.Delivery;
using Messaging.Contracts.Events;
using Messaging.Contracts.Protocol;
using Messaging.Contracts.Serialization;
using Messaging.Contracts.Topics;
using Messaging.Router.Chats;
using Messaging.Router.Routing;
using Microsoft.Extensions.Logging.Abstractions;
using static Messaging.UnitTests.Router.RouterTestKit;

namespace Messaging.UnitTests.Router;

/// <summary>The per-batch runtime logic, with the broker replaced by a recording sink.</summary>
public sealed class CommandProcessorTests
{
    private readonly TopicNames _topics = new("p.");
    private readonly FakeDirectory _directory = new FakeDirectory(edgeNodes: 4)
        .WithDevices("ana", "phone", "laptop")
        .WithDevices("bo", "phone")
        .WithDevices("cy", "phone")
        .Online("ana/phone", 0).Online("ana/laptop", 2).Online("bo/phone", 2).Offline("cy/phone");

    private readonly ChatStateStore _states = new();
    private readonly RecordingSink _sink = new();
    private readonly CommandProcessor _processor;

    public CommandProcessorTests()
    {
        _processor = new CommandProcessor(_topics, new ChatLimits(10, 100, 10), 4, _directory, new FixedClock(Now), NullLogger.Instance);
        _states.Load(0, []);
        _states.Load(1, []);
    }

    private static ConsumeResult<string, byte[]> Record(int partition, long offset, ChatCommand command) =>
        Raw(partition, offset, command.ChatId, Codecs.Commands.Encode(command));

    private static ConsumeResult<string, byte[]> Raw(int partition, long offset, string key, byte[] value) => new()
    {
        Topic = "p.chat.commands",
        Partition = partition,
        Offset = offset,
        Message = new Message<string, byte[]> { Key = key, Value = value },
    };

    private BatchOutcome Process(params ConsumeResult<string, byte[]>[] batch) =>
        _processor.Process(batch, _states, _sink, CancellationToken.None);

    [Fact]
    public void A_send_becomes_one_event_and_one_delivery_record_per_node_holding_online_recipients()
    {
        var outcome = Process(Record(0, 0, Group("g1", "ana", "Team", "bo", "cy")), Record(0, 1, Send("g1", "bo", body: "hey")));

        outcome.Events.Should().Be(2);
        var events = _sink.Decoded<ChatEvent>(_topics.ChatEvents);
        events.Select(e => e.Seq).Should().Equal(1, 2);
        _sink.Records.Where(r => r.Topic == _topics.ChatEvents).Should().OnlyContain(r => r.Partition == 0 && r.Key == "g1");

        var node0 = _sink.Decoded<NodeDelivery>(_topics.DeliveryNode(0)).Cast<EventRouted>().ToList();
        var node2 = _sink.Decoded<NodeDelivery>(_topics.DeliveryNode(2)).Cast<EventRouted>().ToList();
        node0.Select(r => r.Event.Seq).Should().Equal(1, 2);
        node0.Select(r => string.Join(',', r.Devices)).Should().AllBe("ana/phone");
        node2.Select(r => r.Event.Seq).Should().Equal(1, 2);
        node2.Select(r => string.Join(',', r.Devices)).Should().AllBe("ana/laptop,bo/phone");
        node2[1].Event.Should().BeOfType<MessageSent>().Which.Body.Should().Be("hey");
        _sink.Records.Should().NotContain(r => r.Topic == _topics.DeliveryNode(1) || r.Topic == _topics.DeliveryNode(3), "no online recipient is there");
        outcome.Deliveries.Should().Be(4);
        _sink.Records.Where(r => r.Topic.StartsWith("p.delivery", StringComparison.Ordinal)).Should().OnlyContain(r => r.Key == "g1");
    }

    [Fact]
    public void The_offline_members_devices_get_no_delivery_and_chat_events_carry_no_recipient_list()
    {
        Process(Record(0, 0, Group("g1", "ana", "Team", "bo", "cy")));

        // chat.events v3: the offline member's devices find the event through the chat's membership on sync.
        System.Text.Encoding.UTF8.GetString(_sink.Records.Single(r => r.Topic == _topics.ChatEvents).Value).Should().NotContain("recipientDevices");
        _sink.Decoded<NodeDelivery>(_topics.DeliveryNode(0)).Concat(_sink.Decoded<NodeDelivery>(_topics.DeliveryNode(2)))
            .SelectMany(d => d.Devices).Should().NotContain("cy/phone");
    }

    [Fact]
    public void A_refusal_goes_only_to_the_origin_node_and_nothing_reaches_chat_events_or_chat_state()
    {
        var outcome = Process(Record(1, 5, Send("nope", "cy", originNode: 3)));

        _sink.Records.Should().ContainSingle();
        var rejected = _sink.Decoded<NodeDelivery>(_topics.DeliveryNode(3)).Single().Should().BeOfType<CommandRejected>().Subject;
        rejected.Code.Should().Be(ErrorCodes.UnknownChat);
        rejected.Devices.Should().Equal("cy/phone");
        outcome.Replies.Should().Be(1);
        outcome.StatesWritten.Should().Be(0);
        outcome.Offsets.Should().Equal(new TopicPartitionOffset("p.chat.commands", 1, 6));
    }

    [Fact]
    public void A_duplicate_send_tells_the_origin_node_and_produces_no_second_event()
    {
        Process(Record(0, 0, Group("g1", "ana", "Team", "bo")), Record(0, 1, Send("g1", "bo", clientMsgId: "c-1")));
        _sink.Records.Clear();

        Process(Record(0, 2, Send("g1", "bo", clientMsgId: "c-1", originNode: 1)));

        _sink.Records.Should().ContainSingle().Which.Topic.Should().Be(_topics.DeliveryNode(1));
        _sink.Decoded<NodeDelivery>(_topics.DeliveryNode(1)).Single().Should().BeOfType<DuplicateSendIgnored>().Which.Seq.Should().Be(2);
    }

    [Fact]
    public void State_snapshots_are_written_only_after_every_event_and_delivery_was_acknowledged_one_per_changed_chat()
    {
        var outcome = Process(
            Record(0, 0, Group("g1", "ana", "Team", "bo")),
            Record(1, 0, Group("g2", "bo", "Other", "ana")),
            Record(0, 1, Send("g1", "ana")),
            Record(0, 2, Send("g1", "bo")),
            Record(1, 1, Send("nope", "ana")));

        _sink.AckWaits.Should().Be(2);
        var states = _sink.Records.Where(r => r.Topic == _topics.ChatState).ToList();
        states.Select(r => (r.Key, r.Partition)).Should().BeEquivalentTo(new[] { ("g1", 0), ("g2", 1) });
        states.Should().OnlyContain(r => r.Phase == 1, "states follow the first acknowledgement");
        _sink.Records.Where(r => r.Topic != _topics.ChatState).Should().OnlyContain(r => r.Phase == 0);
        outcome.StatesWritten.Should().Be(2);
        var g1 = ChatStateCodec.Decode(states.Single(s => s.Key == "g1").Value, 10);
        g1.LastSeq.Should().Be(3);
        g1.LastCommandOffset.Should().Be(2);
    }

    [Fact]
    public void The_commit_offsets_are_one_past_the_highest_record_of_each_partition_parked_and_skipped_records_included()
    {
        var outcome = Process(
            Record(0, 10, Group("g1", "ana", "Team", "bo")),
            Raw(1, 20, "x", Encoding.UTF8.GetBytes("garbage")),
            Record(0, 11, Send("g1", "ana")),
            Raw(1, 21, "x", Encoding.UTF8.GetBytes("{\"type\":\"FutureCommand\",\"v\":1}")));

        outcome.Offsets.Should().BeEquivalentTo(new[]
        {
            new TopicPartitionOffset("p.chat.commands", 0, 12),
            new TopicPartitionOffset("p.chat.commands", 1, 22),
        });
    }

    [Fact]
    public void Undecodable_commands_are_parked_with_the_reason_and_the_batch_moves_on()
    {
        var future = Send("g1", "ana") with { V = 9 };
        var outcome = Process(
            Raw(0, 0, "x", Encoding.UTF8.GetBytes("not json")),
            Raw(0, 1, "x", Encoding.UTF8.GetBytes("{\"type\":\"Teleport\",\"v\":1}")),
            Raw(0, 2, "g1", Codecs.Commands.Encode(future)),
            Record(0, 3, Group("g1", "ana", "Team")));

        outcome.Parked.Should().Be(3);
        _sink.Parked.Select(p => p.Reason).Should().SatisfyRespectively(
            r => r.Should().StartWith("Malformed"),
            r => r.Should().StartWith("UnknownType"),
            r => r.Should().StartWith("UnsupportedVersion"));
        outcome.Events.Should().Be(1);
    }

    [Fact]
    public void A_command_whose_key_is_not_its_chat_id_is_parked_rather_than_forking_the_chat()
    {
        var outcome = Process(Raw(0, 0, "other-key", Codecs.Commands.Encode(Group("g1", "ana", "Team"))));

        outcome.Parked.Should().Be(1);
        _sink.Parked.Single().Reason.Should().Contain("differs from chatId");
        _sink.Records.Should().BeEmpty();
    }

    [Fact]
    public void Commands_at_or_below_a_chats_last_applied_offset_are_skipped_after_a_crash_between_state_write_and_commit()
    {
        Process(Record(0, 0, Group("g1", "ana", "Team", "bo")), Record(0, 1, Send("g1", "ana", clientMsgId: "c-1")));
        var snapshot = _sink.Records.Single(r => r.Topic == _topics.ChatState).Value;
        _states.Load(0, new Dictionary<string, ChatState> { ["g1"] = ChatStateCodec.Decode(snapshot, 10) });
        _sink.Records.Clear();

        // The commit never happened: the same commands come again, followed by a new one.
        var outcome = Process(Record(0, 0, Group("g1", "ana", "Team", "bo")), Record(0, 1, Send("g1", "ana", clientMsgId: "c-1")), Record(0, 2, Send("g1", "bo")));

        outcome.Skipped.Should().Be(2);
        _sink.Decoded<ChatEvent>(_topics.ChatEvents).Select(e => e.Seq).Should().Equal(3);
        _sink.Records.Should().NotContain(r => r.Topic.StartsWith("p.delivery", StringComparison.Ordinal) && Codecs.Deliveries.Decode(r.Value).Value is CommandRejected);
    }

    [Fact]
    public void Re_deciding_from_an_older_state_yields_the_same_seq_and_messageId()
    {
        var send = Send("g1", "ana", clientMsgId: "c-1");
        Process(Record(0, 0, Group("g1", "ana", "Team", "bo")));
        var before = _sink.Records.Single(r => r.Topic == _topics.ChatState).Value;
        Process(Record(0, 1, send));
        var first = (MessageSent)_sink.Decoded<ChatEvent>(_topics.ChatEvents).Last();

        // Crash after the events but before the state write: the state is the older one.
        _states.Load(0, new Dictionary<string, ChatState> { ["g1"] = ChatStateCodec.Decode(before, 10) });
        _sink.Records.Clear();
        Process(Record(0, 1, send));
        var again = (MessageSent)_sink.Decoded<ChatEvent>(_topics.ChatEvents).Single();

        again.Seq.Should().Be(first.Seq);
        again.MessageId.Should().Be(first.MessageId);
    }

    [Fact]
    public void A_reply_for_a_node_that_does_not_exist_is_dropped_without_failing_the_batch()
    {
        var outcome = Process(Record(0, 0, Send("nope", "ana", originNode: 99)));

        outcome.Replies.Should().Be(0);
        _sink.Records.Should().BeEmpty();
        outcome.Offsets.Should().ContainSingle();
    }

    [Fact]
    public void A_command_from_a_partition_whose_state_is_not_loaded_is_never_decided()
    {
        var act = () => Process(Record(7, 0, Group("g1", "ana", "Team")));

        act.Should().Throw<InvalidOperationException>();
        _sink.Records.Should().BeEmpty();
    }

    [Fact]
    public void A_failed_acknowledgement_fails_the_batch_before_any_state_is_written()
    {
        _sink.FailNextWait = true;

        var act = () => Process(Record(0, 0, Group("g1", "ana", "Team")));

        act.Should().Throw<KafkaException>();
        _sink.Records.Should().NotContain(r => r.Topic == _topics.ChatState);
    }

    [Fact]
    public void Between_flushes_batches_produce_their_events_without_waiting_and_neither_write_states_nor_return_offsets()
    {
        var outcome = _processor.Process([Record(0, 0, Group("g1", "ana", "Team", "bo")), Record(0, 1, Send("g1", "ana"))], _states, _sink, flush: false, CancellationToken.None);

        _sink.AckWaits.Should().Be(0);
        _sink.Records.Should().Contain(r => r.Topic == _topics.ChatEvents);
        _sink.Records.Should().NotContain(r => r.Topic == _topics.ChatState);
        outcome.Offsets.Should().BeEmpty();
        outcome.StatesWritten.Should().Be(0);
        _processor.HasUnflushed.Should().BeTrue();
    }

    [Fact]
    public void A_flush_acknowledges_everything_since_the_last_one_then_writes_one_state_per_chat_changed_in_any_batch_and_returns_every_offset()
    {
        _processor.Process([Record(0, 0, Group("g1", "ana", "Team", "bo")), Record(1, 0, Group("g2", "bo", "Other", "ana"))], _states, _sink, flush: false, CancellationToken.None);
        _processor.Process([Record(0, 1, Send("g1", "ana"))], _states, _sink, flush: false, CancellationToken.None);

        var outcome = _processor.Process([], _states, _sink, flush: true, CancellationToken.None);

        _sink.AckWaits.Should().Be(2);
        var states = _sink.Records.Where(r => r.Topic == _topics.ChatState).ToList();
        states.Select(r => r.Key).Should().BeEquivalentTo("g1", "g2");
        states.Should().OnlyContain(r => r.Phase == 1, "states follow the acknowledgement of every earlier batch");
        ChatStateCodec.Decode(states.Single(s => s.Key == "g1").Value, 10).LastCommandOffset.Should().Be(1);
        outcome.Offsets.Should().BeEquivalentTo(new[]
        {
            new TopicPartitionOffset("p.chat.commands", 0, 2),
            new TopicPartitionOffset("p.chat.commands", 1, 1),
        });
        _processor.HasUnflushed.Should().BeFalse();
    }

    [Fact]
    public void A_lost_partition_leaves_its_unflushed_states_and_offsets_to_the_new_owner()
    {
        _processor.Process([Record(0, 0, Group("g1", "ana", "Team", "bo")), Record(1, 0, Group("g2", "bo", "Other", "ana"))], _states, _sink, flush: false, CancellationToken.None);

        _processor.Drop(1);
        var outcome = _processor.Process([], _states, _sink, flush: true, CancellationToken.None);

        _sink.Records.Where(r => r.Topic == _topics.ChatState).Select(r => r.Key).Should().Equal("g1");
        outcome.Offsets.Should().Equal(new TopicPartitionOffset("p.chat.commands", 0, 1));
    }

    [Fact]
    public void With_a_delivery_partition_every_node_record_of_every_chat_goes_to_that_partition_and_without_one_to_the_partitioner()
    {
        using var pinned = new CommandProcessor(_topics, new ChatLimits(10, 100, 10), 4, _directory, new FixedClock(Now), NullLogger.Instance, deliveryPartition: 0);
        var sink = new RecordingSink();
        var states = new ChatStateStore();
        states.Load(0, []);
        states.Load(1, []);

        pinned.Process([Record(0, 0, Group("g1", "ana", "Team", "bo")), Record(1, 0, Group("g2", "bo", "Other", "ana")), Record(1, 1, Send("nope", "cy", originNode: 3))], states, sink, CancellationToken.None);
        Process(Record(0, 0, Group("g1", "ana", "Team", "bo")));

        var nodeRecords = sink.Records.Where(r => r.Topic.StartsWith("p.delivery", StringComparison.Ordinal)).ToList();
        nodeRecords.Select(r => r.Key).Should().Contain(["g1", "g2", "nope"], "pushes and the refusal alike");
        nodeRecords.Should().OnlyContain(r => r.Partition == 0);
        _sink.Records.Where(r => r.Topic.StartsWith("p.delivery", StringComparison.Ordinal)).Should().NotBeEmpty().And.OnlyContain(r => r.Partition == Partition.Any.Value);
    }

    [Fact]
    public void A_pipelined_flush_writes_the_states_as_they_stood_when_it_began_only_after_its_mark_is_acknowledged_and_returns_its_offsets_only_after_the_states_are()
    {
        _processor.Process([Record(0, 0, Group("g1", "ana", "Team", "bo")), Record(0, 1, Send("g1", "ana"))], _states, _sink, flush: false, CancellationToken.None);
        _sink.AcknowledgedThrough = -1;

        _processor.BeginFlush(_sink);
        _processor.AdvanceFlush(_sink).Should().BeNull("nothing before the mark is acknowledged yet");
        _processor.Process([Record(0, 2, Send("g1", "bo"))], _states, _sink, flush: false, CancellationToken.None);
        _processor.FlushInFlight.Should().BeTrue();
        _sink.Records.Should().NotContain(r => r.Topic == _topics.ChatState);

        _sink.AcknowledgedThrough = 0;
        _processor.WaitForFlushEncoded();
        var written = _processor.AdvanceFlush(_sink);

        written.Should().NotBeNull();
        written!.StatesWritten.Should().Be(1);
        written.Offsets.Should().BeEmpty("the states are not acknowledged yet");
        var state = _sink.Records.Single(r => r.Topic == _topics.ChatState);
        _sink.Records.IndexOf(state).Should().BeGreaterThan(_sink.Records.FindLastIndex(r => r.Topic == _topics.ChatEvents), "the batch decided meanwhile went out first, unhindered");
        var snapshot = ChatStateCodec.Decode(state.Value, 10);
        snapshot.LastCommandOffset.Should().Be(1, "the state is the one the flush began with, not the later batch's");
        snapshot.LastSeq.Should().Be(2);

        _processor.AdvanceFlush(_sink).Should().BeNull("still waiting for the states");
        _sink.AcknowledgedThrough = 1;
        var committed = _processor.AdvanceFlush(_sink);

        committed!.Offsets.Should().Equal(new TopicPartitionOffset("p.chat.commands", 0, 2));
        _processor.FlushInFlight.Should().BeFalse();
        _processor.HasUnflushed.Should().BeTrue("the batch decided during the flush belongs to the next one");
    }

    [Fact]
    public void A_blocking_flush_finishes_the_flush_in_flight_first_so_the_newer_state_of_a_chat_in_both_is_written_last()
    {
        _processor.Process([Record(0, 0, Group("g1", "ana", "Team", "bo")), Record(1, 0, Group("g2", "bo", "Other", "ana"))], _states, _sink, flush: false, CancellationToken.None);
        _sink.AcknowledgedThrough = -1;
        _processor.BeginFlush(_sink);
        _processor.AdvanceFlush(_sink).Should().BeNull();

        var outcome = _processor.Process([Record(0, 1, Send("g1", "ana"))], _states, _sink, flush: true, CancellationToken.None);

        var states = _sink.Records.Where(r => r.Topic == _topics.ChatState).ToList();
        states.Select(r => r.Key).Should().Equal("g1", "g2", "g1");
        states.Should().OnlyContain(r => r.Phase == 1, "written after the wait for everything produced before");
        ChatStateCodec.Decode(states[^1].Value, 10).LastCommandOffset.Should().Be(1);
        outcome.StatesWritten.Should().Be(3);
        outcome.Offsets.Should().BeEquivalentTo(new[]
        {
            new TopicPartitionOffset("p.chat.commands", 0, 2),
            new TopicPartitionOffset("p.chat.commands", 1, 1),
        });
        _processor.FlushInFlight.Should().BeFalse();
        _processor.HasUnflushed.Should().BeFalse();
    }

    [Fact]
    public void A_partition_lost_while_its_flush_is_in_flight_gets_neither_its_states_written_nor_its_offsets_committed()
    {
        _processor.Process([Record(0, 0, Group("g1", "ana", "Team", "bo")), Record(1, 0, Group("g2", "bo", "Other", "ana"))], _states, _sink, flush: false, CancellationToken.None);
        _sink.AcknowledgedThrough = -1;
        _processor.BeginFlush(_sink);

        _processor.Drop(1);
        _sink.AcknowledgedThrough = long.MaxValue;
        _processor.WaitForFlushEncoded();
        var step = _processor.AdvanceFlush(_sink);

        _sink.Records.Where(r => r.Topic == _topics.ChatState).Select(r => r.Key).Should().Equal("g1");
        step!.Offsets.Should().Equal(new TopicPartitionOffset("p.chat.commands", 0, 1));
    }

    [Fact]
    public void A_failed_acknowledgement_fails_a_pipelined_flush_before_its_states_are_written()
    {
        _processor.Process([Record(0, 0, Group("g1", "ana", "Team"))], _states, _sink, flush: false, CancellationToken.None);
        _processor.BeginFlush(_sink);
        _sink.FailNextWait = true;

        var act = () => _processor.AdvanceFlush(_sink);

        act.Should().Throw<KafkaException>();
        _sink.Records.Should().NotContain(r => r.Topic == _topics.ChatState);
    }

    [Fact]
    public void Only_one_flush_is_in_flight_at_a_time()
    {
        _processor.Process([Record(0, 0, Group("g1", "ana", "Team"))], _states, _sink, flush: false, CancellationToken.None);
        _sink.AcknowledgedThrough = -1;
        _processor.BeginFlush(_sink);

        var act = () => _processor.BeginFlush(_sink);

        act.Should().Throw<InvalidOperationException>();
    }
}
