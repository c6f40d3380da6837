using Confluent.Kafka;
using Messaging.Contracts.Delivery;
using Messaging.Contracts.Devices;
using Messaging.Contracts.Protocol;
using Messaging.Contracts.Serialization;
using Messaging.Contracts.Topics;
using Messaging.Router.Devices;
using Microsoft.Extensions.Logging.Abstractions;
using static Messaging.UnitTests.Router.DeviceDeciderTests;

namespace Messaging.UnitTests.Router;

public sealed class DeviceCommandProcessorTests
{
    private static readonly DateTimeOffset Now = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly TopicNames _topics = new("p.");
    private readonly Dictionary<string, UserDevicesChanged> _table = new(StringComparer.Ordinal);
    private readonly RecordingSink _sink = new();
    private readonly DeviceCommandProcessor _processor;

    public DeviceCommandProcessorTests()
    {
        _processor = new DeviceCommandProcessor(_topics, new DeviceLimits(MaxDevicesPerUser: 2), edgeNodes: 4, NullLogger.Instance);
    }

    private static ConsumeResult<string, byte[]> Record(long offset, DeviceCommand command, string? key = null) =>
        Raw(offset, key ?? command.UserId, Codecs.DeviceCommands.Encode(command));

    private static ConsumeResult<string, byte[]> Raw(long offset, string key, byte[] value) => new()
    {
        Topic = "p.user.commands",
        Partition = 1,
        Offset = offset,
        Message = new Message<string, byte[]> { Key = key, Value = value },
    };

    private DeviceBatchOutcome Process(params ConsumeResult<string, byte[]>[] batch) =>
        _processor.Process(batch, user => _table.GetValueOrDefault(user), _sink, Now, CancellationToken.None);

    private List<DeviceCommandDecided> Replies(int node) =>
        _sink.Records.Where(r => r.Topic == _topics.DeliveryNode(node)).Select(r => (DeviceCommandDecided)Codecs.Deliveries.Decode(r.Value).Value!).ToList();

    [Fact]
    public void A_batch_decides_each_command_on_the_lists_its_earlier_commands_produced()
    {
        var outcome = Process(
            Record(10, Register("ana", "a", node: 0)),
            Record(11, Register("ana", "b", node: 1)),
            Record(12, Register("ana", "c", node: 0)));

        var lists = _sink.Records.Where(r => r.Topic == _topics.UserDevices).ToList();
        lists.Should().ContainSingle("one record per changed user per batch");
        var list = (UserDevicesChanged)Codecs.Devices.Decode(lists[0].Value).Value!;
        list.DeviceIds.Should().Equal("a", "b");
        list.Version.Should().Be(2);
        lists[0].Key.Should().Be("ana");
        Replies(0).Select(r => r.Code).Should().Equal(null, ErrorCodes.TooManyDevices);
        Replies(1).Should().ContainSingle().Which.Accepted.Should().BeTrue();
        outcome.Offsets.Should().Equal(new TopicPartitionOffset("p.user.commands", 1, 13));
        outcome.Refused.Should().Be(1);
    }

    [Fact]
    public void Replies_are_produced_only_after_the_lists_are_acknowledged()
    {
        Process(Record(0, Register("ana", "a", node: 2)));

        _sink.Records.Single(r => r.Topic == _topics.UserDevices).Phase.Should().Be(0);
        _sink.Records.Single(r => r.Topic == _topics.DeliveryNode(2)).Phase.Should().Be(1);
        _sink.AckWaits.Should().Be(2);
    }

    [Fact]
    public void Decisions_start_from_the_table()
    {
        _table["ana"] = new UserDevicesChanged { UserId = "ana", DeviceIds = ["a", "b"], Version = 7, ChangedAt = Now };

        Process(Record(0, Register("ana", "b")), Record(1, Register("ana", "c")));

        _sink.Records.Should().NotContain(r => r.Topic == _topics.UserDevices);
        Replies(2).Select(r => r.Code).Should().Equal(null, ErrorCodes.TooManyDevices);
    }

    [Fact]
    public void An_undecodable_command_or_one_keyed_by_another_user_is_parked_and_the_batch_moves_on()
    {
        var outcome = Process(
            Raw(0, "ana", "not json"u8.ToArray()),
            Record(1, Register("ana", "a"), key: "bo"),
            Record(2, Register("ana", "a")));

        _sink.Parked.Select(p => p.Record.Offset.Value).Should().Equal(0, 1);
        outcome.Parked.Should().Be(2);
        Replies(2).Should().ContainSingle().Which.Accepted.Should().BeTrue();
        outcome.Offsets.Should().Equal(new TopicPartitionOffset("p.user.commands", 1, 3));
    }

    [Fact]
    public void A_command_naming_a_node_that_does_not_exist_is_decided_without_a_reply()
    {
        Process(Record(0, Register("ana", "a", node: 9)));

        _sink.Records.Should().ContainSingle(r => r.Topic == _topics.UserDevices);
        _sink.Records.Should().NotContain(r => r.Topic.StartsWith("p.delivery.", StringComparison.Ordinal));
    }

    [Fact]
    public void A_failed_acknowledgement_of_the_lists_sends_no_reply_and_commits_nothing()
    {
        _sink.FailNextWait = true;

        var act = () => Process(Record(0, Register("ana", "a")));

        act.Should().Throw<KafkaException>();
        _sink.Records.Should().NotContain(r => r.Topic == _topics.DeliveryNode(2));
    }
}
