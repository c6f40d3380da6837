using Messaging.Contracts.Delivery;
using Messaging.Contracts.Devices;
using Messaging.Contracts.Events;
using Messaging.Contracts.Serialization;
using Messaging.Router.Routing;
using static Messaging.UnitTests.Router.RouterTestKit;

namespace Messaging.UnitTests.Router;

public sealed class FanOutTests
{
    private static List<string>[] Buffers(int nodes) => [.. Enumerable.Range(0, nodes).Select(_ => new List<string>())];

    [Fact]
    public void Recipients_are_grouped_by_the_node_they_are_online_on_and_offline_devices_are_left_out()
    {
        var directory = new FakeDirectory(edgeNodes: 4)
            .Online("a/1", 0).Online("a/2", 2).Online("b/1", 2).Offline("c/1").Online("d/1", 3, leaseUntil: Now.AddSeconds(-1)).Online("e/1", 1, leaseUntil: Now.AddSeconds(30));
        var byNode = Buffers(4);
        byNode[1].Add("stale from the previous event");

        var nodes = NodeFanOut.Group(["a/1", "a/2", "b/1", "c/1", "d/1", "e/1", "f/never-connected"], directory, Now, byNode);

        nodes.Should().Be(3);
        byNode[0].Should().Equal("a/1");
        byNode[1].Should().Equal("e/1");
        byNode[2].Should().Equal("a/2", "b/1");
        byNode[3].Should().BeEmpty();
    }

    [Fact]
    public void Two_users_with_the_same_device_id_are_two_fan_out_targets_on_their_own_nodes()
    {
        // Issue 8: with sessions keyed by the bare device id, B's "phone" connecting moved A's
        // "phone" to B's node, and A's messages followed it there.
        var directory = new FakeDirectory(edgeNodes: 4).Online("ana/phone", 0).Online("bo/phone", 2).Offline("cy/phone");
        var byNode = Buffers(4);

        var nodes = NodeFanOut.Group(["ana/phone"], directory, Now, byNode);

        nodes.Should().Be(1);
        byNode[0].Should().Equal("ana/phone");
        byNode[2].Should().BeEmpty("bo's phone is another device, even with the same device id");

        NodeFanOut.Group(["ana/phone", "bo/phone", "cy/phone"], directory, Now, byNode).Should().Be(2);
        byNode[0].Should().Equal("ana/phone");
        byNode[2].Should().Equal("bo/phone");
    }

    [Theory]
    [InlineData(null, null, -1)]
    [InlineData(2, null, 2)]
    [InlineData(2, 1, 2)]
    [InlineData(2, 0, -1)]
    [InlineData(2, -5, -1)]
    [InlineData(4, null, -1)]
    [InlineData(-1, null, -1)]
    public void A_device_is_online_on_node_k_only_while_its_latest_session_names_k_and_its_lease_lasts(int? node, int? leaseSecondsFromNow, int expected)
    {
        var session = new DeviceSessionChanged
        {
            DeviceId = "x",
            UserId = "u",
            Node = node,
            SessionId = "s",
            ChangedAt = Now,
            LeaseUntil = leaseSecondsFromNow is int s ? Now.AddSeconds(s) : null,
        };

        SessionRules.NodeOf(session, null, Now, edgeNodes: 4).Should().Be(expected);
    }

    [Fact]
    public void An_EventRouted_record_decodes_through_the_contract_with_the_event_intact()
    {
        var evt = new MessageSent
        {
            ChatId = "g1",
            Seq = 7,
            Actor = Phone("ana"),
            OccurredAt = Now,
            MessageId = "m-1",
            ClientMsgId = "c-1",
            Body = "hé \"quoted\" </script>",
        };
        var eventJson = Codecs.Events.Encode(evt);
        using var encoder = new DeliveryEncoder();

        encoder.EventRouted(eventJson, null, ["u/x"]);
        var bytes = encoder.EventRouted(eventJson, Now, ["ana/a1", "b\"o/1"]);

        var decoded = Codecs.Deliveries.Decode(bytes);
        decoded.Status.Should().Be(DecodeStatus.Ok);
        var routed = decoded.Value.Should().BeOfType<EventRouted>().Subject;
        routed.Devices.Should().Equal("ana/a1", "b\"o/1");
        routed.Event.Should().BeEquivalentTo(evt, o => o.RespectingRuntimeTypes());
        routed.AcceptedAt.Should().Be(Now);
    }

    [Fact]
    public void An_EventRouted_record_has_the_same_json_as_the_contract_serializer_writes()
    {
        var evt = new MemberLeft { ChatId = "g1", Seq = 2, Actor = Phone("ana"), OccurredAt = Now, UserId = "ana", PromotedAdmin = "bo" };
        var eventJson = Codecs.Events.Encode(evt);
        using var encoder = new DeliveryEncoder();

        var ours = encoder.EventRouted(eventJson, null, ["ana/phone"]);
        var theirs = Codecs.Deliveries.Encode(new EventRouted { Devices = ["ana/phone"], Event = evt });

        ours.Should().Equal(theirs);
    }

    [Fact]
    public void An_EventRouted_record_with_its_acceptance_time_has_the_same_json_as_the_contract_serializer_writes()
    {
        var evt = new MemberLeft { ChatId = "g1", Seq = 2, Actor = Phone("ana"), OccurredAt = Now, UserId = "ana" };
        var eventJson = Codecs.Events.Encode(evt);
        using var encoder = new DeliveryEncoder();
        var acceptedAt = Now.AddTicks(-12_345);

        var ours = encoder.EventRouted(eventJson, acceptedAt, ["ana/phone"]);
        var theirs = Codecs.Deliveries.Encode(new EventRouted { Devices = ["ana/phone"], Event = evt, AcceptedAt = acceptedAt });

        ours.Should().Equal(theirs);
    }
}
