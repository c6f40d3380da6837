using System.Text;
using Messaging.Contracts;
using Messaging.Contracts.Commands;
using Messaging.Contracts.Delivery;
using Messaging.Contracts.Devices;
using Messaging.Contracts.Events;
using Messaging.Contracts.Protocol;
using Messaging.Contracts.Serialization;

namespace Messaging.UnitTests.Contracts;

public sealed class RecordCodecTests
{
    private static readonly DateTimeOffset At = new(2026, 11, 22, 10, 0, 0, TimeSpan.Zero);
    private static readonly DeviceRef Ana = new("ana", "ana-phone");

    [Fact]
    public void Every_command_type_round_trips_with_its_type_and_version()
    {
        ChatCommand[] commands =
        [
            new CreateChat { CommandId = "c1", ChatId = "chat", Origin = Ana, OriginNode = 1, IssuedAt = At, Title = "t", Members = ["bo"] },
            new SendMessage { CommandId = "c2", ChatId = "chat", Origin = Ana, OriginNode = 1, IssuedAt = At, ClientMsgId = "m1", MessageId = "id1", Body = "hi" },
            new AddMembers { CommandId = "c3", ChatId = "chat", Origin = Ana, OriginNode = 1, IssuedAt = At, UserIds = ["cy"] },
            new RemoveMember { CommandId = "c4", ChatId = "chat", Origin = Ana, OriginNode = 1, IssuedAt = At, UserId = "cy" },
            new LeaveChat { CommandId = "c5", ChatId = "chat", Origin = Ana, OriginNode = 1, IssuedAt = At },
            new GrantAdmin { CommandId = "c6", ChatId = "chat", Origin = Ana, OriginNode = 1, IssuedAt = At, UserId = "bo" },
        ];

        foreach (var command in commands)
        {
            var bytes = Codecs.Commands.Encode(command);
            var json = Encoding.UTF8.GetString(bytes);
            json.Should().StartWith("{\"type\":\"" + command.GetType().Name + "\"");
            json.Should().Contain("\"v\":1");

            var decoded = Codecs.Commands.Decode(bytes);
            decoded.Status.Should().Be(DecodeStatus.Ok, decoded.Error);
            decoded.Value.Should().BeEquivalentTo(command, o => o.RespectingRuntimeTypes());
        }
    }

    [Fact]
    public void Events_round_trip_with_recipients_and_enums_as_strings()
    {
        ChatEvent created = new ChatCreated
        {
            ChatId = "chat",
            Seq = 1,
            Actor = Ana,
            OccurredAt = At,
            Kind = ChatKind.Group,
            Title = "Trip",
            Members = [new ChatMember("ana", MemberRole.Admin), new ChatMember("bo", MemberRole.Member)],
        };

        var bytes = Codecs.Events.Encode(created);
        Encoding.UTF8.GetString(bytes).Should().Contain("\"role\":\"Admin\"").And.Contain("\"kind\":\"Group\"");
        Codecs.Events.Decode(bytes).Value.Should().BeEquivalentTo(created, o => o.RespectingRuntimeTypes());
    }

    [Fact]
    public void Events_are_written_as_v3_without_recipients_and_v1_and_v2_events_still_decode_ignoring_theirs()
    {
        var sent = new MessageSent { ChatId = "c", Seq = 1, Actor = Ana, OccurredAt = At, MessageId = "m", ClientMsgId = "cm", Body = "hi" };
        Encoding.UTF8.GetString(Codecs.Events.Encode(sent)).Should().Contain("\"v\":3").And.NotContain("recipientDevices");
        Encoding.UTF8.GetString(Codecs.Deliveries.Encode(new EventRouted { Devices = ["ana/phone"], Event = sent })).Should().Contain("\"v\":2").And.Contain("\"devices\":[\"ana/phone\"]");
        Encoding.UTF8.GetString(Codecs.Devices.Encode(new DeliveryAcked { DeviceId = "phone", UserId = "ana", ChatId = "c", Seq = 1, AckedAt = At })).Should().Contain("\"v\":2");

        // v1 (bare device ids) and v2 (addresses) events still decode; their recipient lists are ignored.
        foreach (var (v, recipients) in new[] { (1, "\"phone\""), (2, "\"ana/phone\",\"bo/phone\"") })
        {
            var old = $$"""{"type":"MessageSent","messageId":"m","clientMsgId":"cm","body":"hi","v":{{v}},"chatId":"c","seq":1,"actor":{"userId":"ana","deviceId":"phone"},"occurredAt":"2026-11-22T10:00:00+00:00","recipientDevices":[{{recipients}}]}""";
            var decoded = Codecs.Events.Decode(Encoding.UTF8.GetBytes(old));
            decoded.Status.Should().Be(DecodeStatus.Ok, decoded.Error);
            decoded.Value!.V.Should().Be(v);
            decoded.Value.Should().BeOfType<MessageSent>().Which.Body.Should().Be("hi");
        }
    }

    [Fact]
    public void A_v1_node_delivery_naming_bare_device_ids_does_not_decode_so_Edge_skips_it()
    {
        var v1 = """{"type":"CommandRejected","chatId":"c","commandId":"k","code":"not_member","message":"no","v":1,"deviceIds":["phone"]}""";

        var decoded = Codecs.Deliveries.Decode(Encoding.UTF8.GetBytes(v1));

        decoded.Status.Should().Be(DecodeStatus.Malformed, "a record naming \"phone\" cannot say whose phone");
        decoded.Value.Should().BeNull();
    }

    [Fact]
    public void Node_delivery_carries_a_nested_event()
    {
        NodeDelivery delivery = new EventRouted
        {
            Devices = ["bo/laptop"],
            Event = new MessageSent
            {
                ChatId = "chat",
                Seq = 2,
                Actor = Ana,
                OccurredAt = At,
                MessageId = "id",
                ClientMsgId = "m",
                Body = "hello",
            },
        };

        var decoded = Codecs.Deliveries.Decode(Codecs.Deliveries.Encode(delivery));

        decoded.Value.Should().BeOfType<EventRouted>().Which.Event.Should().BeOfType<MessageSent>().Which.Body.Should().Be("hello");
    }

    [Fact]
    public void A_v1_user_devices_record_reads_as_version_0_with_nothing_removed()
    {
        var decoded = Codecs.Devices.Decode("""{"type":"UserDevicesChanged","v":1,"userId":"u","deviceIds":["a"],"changedAt":"2026-01-01T00:00:00Z"}"""u8);

        var list = decoded.Value.Should().BeOfType<Messaging.Contracts.Devices.UserDevicesChanged>().Subject;
        list.DeviceIds.Should().Equal("a");
        list.Removed.Should().BeEmpty();
        list.Version.Should().Be(0);
    }

    [Fact]
    public void Device_commands_and_v2_device_lists_round_trip()
    {
        var remove = new Messaging.Contracts.Devices.RemoveDevice
        {
            CommandId = "c1",
            UserId = "u",
            DeviceId = "web",
            Origin = new Messaging.Contracts.DeviceRef("u", "phone"),
            OriginNode = 1,
            IssuedAt = DateTimeOffset.UnixEpoch,
        };
        var json = System.Text.Encoding.UTF8.GetString(Codecs.DeviceCommands.Encode(remove));
        json.Should().Contain("\"type\":\"RemoveDevice\"").And.Contain("\"origin\":{\"userId\":\"u\",\"deviceId\":\"phone\"}");
        Codecs.DeviceCommands.Decode(Codecs.DeviceCommands.Encode(remove)).Value.Should().Be(remove);

        var list = new Messaging.Contracts.Devices.UserDevicesChanged
        {
            UserId = "u",
            DeviceIds = ["phone"],
            Removed = [new("web", DateTimeOffset.UnixEpoch)],
            Version = 3,
            ChangedAt = DateTimeOffset.UnixEpoch,
        };
        var back = (Messaging.Contracts.Devices.UserDevicesChanged)Codecs.Devices.Decode(Codecs.Devices.Encode(list)).Value!;
        back.V.Should().Be(2);
        back.Removed.Should().Equal(list.Removed);
        back.Version.Should().Be(3);
    }

    [Fact]
    public void Type_written_after_the_payload_still_decodes()
    {
        var json = """{"deviceId":"d","userId":"u","chatId":"c","seq":5,"ackedAt":"2026-11-22T10:00:00+00:00","v":1,"type":"DeliveryAcked"}""";

        var decoded = Codecs.Devices.Decode(Encoding.UTF8.GetBytes(json));

        decoded.Status.Should().Be(DecodeStatus.Ok, decoded.Error);
        decoded.Value.Should().BeOfType<DeliveryAcked>().Which.Seq.Should().Be(5);
    }

    [Theory]
    [InlineData("not json", DecodeStatus.Malformed)]
    [InlineData("[1,2]", DecodeStatus.Malformed)]
    [InlineData("{\"seq\":1}", DecodeStatus.Malformed)]
    [InlineData("{\"type\":42}", DecodeStatus.Malformed)]
    [InlineData("{\"type\":\"SomethingNew\",\"v\":1}", DecodeStatus.UnknownType)]
    [InlineData("{\"type\":\"DeliveryAcked\",\"v\":3}", DecodeStatus.UnsupportedVersion)]
    [InlineData("{\"type\":\"DeliveryAcked\",\"v\":\"x\"}", DecodeStatus.Malformed)]
    [InlineData("{\"type\":\"DeliveryAcked\",\"v\":1,\"deviceId\":\"d\"}", DecodeStatus.Malformed)]
    [InlineData("{\"type\":\"DeliveryAcked\",\"v\":1,\"deviceId\":\"d\",\"userId\":\"u\",\"chatId\":\"c\",\"seq\":\"five\",\"ackedAt\":\"2026-11-22T10:00:00Z\"}", DecodeStatus.Malformed)]
    public void Bad_records_are_classified_without_throwing(string json, DecodeStatus expected)
    {
        var decoded = Codecs.Devices.Decode(Encoding.UTF8.GetBytes(json));

        decoded.Status.Should().Be(expected);
        decoded.Value.Should().BeNull();
        decoded.Error.Should().NotBeNullOrEmpty();
    }

    [Fact]
    public void Client_frames_use_protocol_type_names()
    {
        var json = """{"type":"message.send","id":"r1","chatId":"c","clientMsgId":"m1","body":"hi"}""";

        var decoded = Codecs.ClientFrames.Decode(Encoding.UTF8.GetBytes(json));

        decoded.Value.Should().BeEquivalentTo(new SendMessageFrame { Id = "r1", ChatId = "c", ClientMsgId = "m1", Body = "hi" });
    }

    [Fact]
    public void Server_error_frame_serializes_to_the_documented_shape()
    {
        var bytes = Codecs.ServerFrames.Encode(new ErrorFrame("r1", ErrorCodes.NotMember, "not a member"));

        Encoding.UTF8.GetString(bytes).Should().Be("""{"type":"error","id":"r1","code":"not_member","message":"not a member"}""");
    }
}
