using Messaging.Contracts;
using Messaging.Contracts.Delivery;
using Messaging.Contracts.Events;
using Messaging.Contracts.Serialization;
using Messaging.Edge;
using Messaging.Edge.Delivery;
using Messaging.Edge.RateLimits;
using Messaging.Edge.Sockets;
using Messaging.Edge.Telemetry;
using Messaging.Router.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Messaging.UnitTests.Edge;

/// <summary>A node record's device list read in place: the same addresses and the same rest of the record as the contract decode gives.</summary>
public sealed class NodeRecordDevicesTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 10, 0, 0, TimeSpan.Zero);

    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly ConnectionRegistry _registry = new();
    private readonly EdgeMetrics _metrics;
    private readonly List<Connection> _connections = [];

    public NodeRecordDevicesTests()
    {
        _metrics = new EdgeMetrics(_services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), _registry);
    }

    private static MessageSent Sent() => new()
    {
        ChatId = "g1",
        Seq = 7,
        Actor = new DeviceRef("ana", "phone"),
        OccurredAt = Now,
        MessageId = "m-7",
        ClientMsgId = "c-7",
        Body = "devices: [\"not/this\"]",
    };

    public static TheoryData<string> Writers => new() { "router encoder", "contract serializer" };

    private static byte[] Record(string writer, IReadOnlyList<string> devices) => writer == "router encoder"
        ? RouterRecord(devices)
        : Codecs.Deliveries.Encode(new EventRouted { Devices = devices, Event = Sent(), AcceptedAt = Now });

    private static byte[] RouterRecord(IReadOnlyList<string> devices)
    {
        using var encoder = new DeliveryEncoder();
        return encoder.EventRouted(Codecs.Events.Encode(Sent()), Now, [.. devices]);
    }

    [Theory]
    [MemberData(nameof(Writers))]
    public void A_routed_event_from_either_writer_starts_with_the_prefix_and_its_rest_decodes_to_the_same_event(string writer)
    {
        var record = Record(writer, ["ana/phone", "bo/web"]);

        record.AsSpan().StartsWith(NodeRecordDevices.EventRoutedPrefix).Should().BeTrue();
        NodeRecordDevices.TryFind(record, out var start, out var length).Should().BeTrue();
        var rest = new byte[record.Length - length + 2];
        var written = NodeRecordDevices.WithoutDevices(record, start, length, rest);

        written.Should().Be(rest.Length);
        var full = (EventRouted)Codecs.Deliveries.Decode(record).Value!;
        var withoutDevices = Codecs.Deliveries.Decode(rest).Value.Should().BeOfType<EventRouted>().Subject;
        withoutDevices.Devices.Should().BeEmpty();
        withoutDevices.Should().BeEquivalentTo(full with { Devices = [] }, o => o.RespectingRuntimeTypes());
    }

    [Fact]
    public void Every_listed_address_with_a_socket_here_resolves_to_it_and_the_others_are_counted_but_skipped()
    {
        var ana = Register("ana", "phone");
        var quoted = Register("b\"o", "1");
        var longUser = Register(new string('u', 300), "web");
        var record = RouterRecord(["ana/phone", "gone/phone", "b\"o/1", longUser.Address]);
        NodeRecordDevices.TryFind(record, out var start, out var length).Should().BeTrue();
        var found = new List<Connection>();

        var listed = NodeRecordDevices.Resolve(record.AsSpan(start, length), _registry, found);

        listed.Should().Be(4);
        found.Should().Equal(ana, quoted, longUser);
    }

    [Fact]
    public void An_empty_device_list_resolves_to_nothing()
    {
        var record = RouterRecord([]);
        NodeRecordDevices.TryFind(record, out var start, out var length).Should().BeTrue();
        var found = new List<Connection>();

        NodeRecordDevices.Resolve(record.AsSpan(start, length), _registry, found).Should().Be(0);
        found.Should().BeEmpty();
    }

    [Theory]
    [InlineData("")]
    [InlineData("[]")]
    [InlineData("{\"type\":\"EventRouted\",\"v\":2}")]
    [InlineData("{\"type\":\"EventRouted\",\"devices\":\"ana/phone\"}")]
    [InlineData("{\"type\":\"EventRouted\",\"devices\":[\"ana/phone\"")]
    public void A_record_without_a_readable_device_array_is_not_found(string json)
    {
        NodeRecordDevices.TryFind(System.Text.Encoding.UTF8.GetBytes(json), out _, out _).Should().BeFalse();
    }

    [Fact]
    public void A_devices_property_inside_the_event_is_not_taken_for_the_records_own()
    {
        var record = Codecs.Deliveries.Encode(new CommandRejected
        {
            Devices = ["ana/phone"],
            ChatId = "g1",
            CommandId = "k",
            Code = "device_list_changed",
            Message = "m",
            CurrentDevices = ["x/1", "y/2"],
        });

        NodeRecordDevices.TryFind(record, out var start, out var length).Should().BeTrue();
        System.Text.Encoding.UTF8.GetString(record, start, length).Should().Be("[\"ana/phone\"]");
    }

    private Connection Register(string userId, string deviceId)
    {
        var connection = new Connection(new DeviceRef(userId, deviceId), new EdgeOptions(), new RateLimitOptions(), _metrics, NullLogger.Instance);
        _registry.Swap(connection);
        _connections.Add(connection);
        return connection;
    }

    public void Dispose()
    {
        foreach (var connection in _connections)
        {
            connection.Dispose();
        }

        _metrics.Dispose();
        _services.Dispose();
    }
}
