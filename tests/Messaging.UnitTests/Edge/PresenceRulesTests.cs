using Messaging.Contracts.Devices;
using Messaging.Edge.Presence;

namespace Messaging.UnitTests.Edge;

public sealed class PresenceRulesTests
{
    private static readonly DateTimeOffset Now = new(2026, 5, 6, 7, 8, 9, TimeSpan.Zero);
    private static readonly NodeLeases NoLeases = new(4);

    [Fact]
    public void A_user_is_online_while_any_device_holds_a_live_session_and_counts_each_online_device()
    {
        var presence = PresenceRules.Aggregate("bo", [Online("phone", Now.AddSeconds(20)), Offline("tablet", Now.AddMinutes(-5)), Online("laptop", Now.AddSeconds(1))], NoLeases, Now);

        presence.Online.Should().BeTrue();
        presence.DevicesOnline.Should().Be(2);
        presence.LastSeen.Should().BeNull("last seen is shown only while offline");
    }

    [Fact]
    public void When_the_last_device_goes_offline_the_user_is_offline_and_last_seen_is_the_latest_change()
    {
        var presence = PresenceRules.Aggregate("bo", [Offline("phone", Now.AddMinutes(-1)), Offline("laptop", Now.AddMinutes(-9))], NoLeases, Now);

        presence.Should().BeEquivalentTo(new { UserId = "bo", Online = false, DevicesOnline = 0, LastSeen = (DateTimeOffset?)Now.AddMinutes(-1) });
    }

    [Fact]
    public void A_device_whose_lease_ran_out_is_offline_and_was_last_seen_at_its_last_renewal()
    {
        // A killed Edge node never writes the offline record: the lease is all that ends the session.
        var renewed = Now.AddSeconds(-40);
        var expired = Online("phone", leaseUntil: Now.AddSeconds(-10)) with { ChangedAt = renewed };
        var expiringNow = Online("laptop", leaseUntil: Now) with { ChangedAt = renewed.AddSeconds(-5) };

        var presence = PresenceRules.Aggregate("bo", [expired, expiringNow], NoLeases, Now);

        presence.Online.Should().BeFalse();
        presence.DevicesOnline.Should().Be(0);
        presence.LastSeen.Should().Be(renewed);
    }

    [Fact]
    public void A_session_without_a_lease_is_online_until_its_offline_record()
    {
        PresenceRules.Aggregate("bo", [Online("phone", leaseUntil: null)], NoLeases, Now).Online.Should().BeTrue();
        PresenceRules.Aggregate("bo", [Offline("phone", Now)], NoLeases, Now).Online.Should().BeFalse();
    }

    [Fact]
    public void A_user_who_never_connected_is_offline_without_last_seen()
    {
        PresenceRules.Aggregate("zed", [], NoLeases, Now).Should().BeEquivalentTo(new { UserId = "zed", Online = false, DevicesOnline = 0, LastSeen = (DateTimeOffset?)null });
    }

    [Theory]
    [InlineData(null, null, false)]
    [InlineData(1, null, true)]
    [InlineData(1, 1, true)]
    [InlineData(1, 0, false)]
    [InlineData(1, -1, false)]
    public void Presence_and_routing_read_a_session_record_the_same_way(int? node, int? leaseSecondsFromNow, bool online)
    {
        var session = new DeviceSessionChanged
        {
            DeviceId = "d",
            UserId = "u",
            Node = node,
            SessionId = "s",
            ChangedAt = Now,
            LeaseUntil = leaseSecondsFromNow is int s ? Now.AddSeconds(s) : null,
        };

        SessionRules.IsOnline(session, null, Now).Should().Be(online);
        (SessionRules.NodeOf(session, null, Now, edgeNodes: 4) >= 0).Should().Be(online);
    }

    [Theory]
    [InlineData("run-1", 10, true)]
    [InlineData("run-1", 0, false)]
    [InlineData("run-1", -20, false)]
    [InlineData("run-2", 10, false)]
    [InlineData(null, 10, false)]
    public void A_session_of_a_node_run_lives_exactly_as_long_as_that_runs_lease_once_the_lease_is_read(string? leaseRun, int? leaseSecondsFromNow, bool online)
    {
        // The session's own lease ran out long ago (the node no longer renews each session): only
        // the lease of the run that announced it keeps it alive; another run's lease never does.
        var session = Online("phone", leaseUntil: Now.AddSeconds(-60)) with { Incarnation = "run-1", ChangedAt = Now.AddMinutes(-2) };
        var lease = leaseRun is null ? null : Lease(leaseRun, Now.AddSeconds(leaseSecondsFromNow!.Value));

        SessionRules.IsOnline(session, lease, Now).Should().Be(online);
        SessionRules.NodeOf(session, lease, Now, edgeNodes: 4).Should().Be(online ? 1 : -1);
    }

    [Fact]
    public void A_session_falls_back_to_its_own_lease_until_its_runs_lease_is_read()
    {
        // A reader may read a fresh run's first session before that run's first lease (other partition).
        var session = Online("phone", leaseUntil: Now.AddSeconds(25)) with { Incarnation = "run-2" };
        var olderRun = Lease("run-1", Now.AddSeconds(-30));

        SessionRules.IsOnline(session, olderRun, Now).Should().BeTrue("its own lease still holds");
        SessionRules.IsOnline(session, olderRun, Now.AddSeconds(26)).Should().BeFalse("after its own lease only its run's lease could keep it");
        SessionRules.IsOnline(session, Lease("run-2", Now.AddSeconds(60)), Now.AddSeconds(26)).Should().BeTrue();
    }

    [Fact]
    public void A_lease_of_another_node_keeps_no_session_alive()
    {
        var session = Online("phone", leaseUntil: Now.AddSeconds(-1)) with { Incarnation = "run-1" };

        SessionRules.IsOnline(session, Lease("run-1", Now.AddSeconds(30)) with { Node = 2 }, Now).Should().BeFalse();
    }

    [Fact]
    public void A_device_of_a_node_that_died_is_offline_and_was_last_seen_at_that_nodes_last_renewal()
    {
        var renewed = Now.AddSeconds(-35);
        var leases = new NodeLeases(4);
        leases.Note(Lease("run-1", renewed.AddSeconds(30)) with { RenewedAt = renewed });
        var session = Online("phone", leaseUntil: Now.AddMinutes(-9)) with { Incarnation = "run-1", ChangedAt = Now.AddMinutes(-10) };

        var presence = PresenceRules.Aggregate("bo", [session], leases, Now);

        presence.Should().BeEquivalentTo(new { Online = false, DevicesOnline = 0, LastSeen = (DateTimeOffset?)renewed });
        PresenceRules.Aggregate("bo", [session], leases, renewed.AddSeconds(10)).Online.Should().BeTrue("while the node's lease held");
    }

    [Fact]
    public void Node_leases_keep_each_nodes_latest_and_ignore_nodes_outside_the_cluster()
    {
        var leases = new NodeLeases(2);
        leases.Note(Lease("a", Now));
        leases.Note(Lease("b", Now.AddSeconds(5)));
        leases.Note(Lease("c", Now) with { Node = 7 });

        leases.Of(1)!.Incarnation.Should().Be("b");
        leases.Of(7).Should().BeNull();
        leases.Of(null).Should().BeNull();
        leases.Read(Lease("d", Now)).Should().BeOfType<EdgeNodeLeased>();
        leases.Of(1)!.Incarnation.Should().Be("d", "reading a lease record notes it");
        leases.Read(new DeliveriesAcked { Acks = [] }).Should().BeNull("a table of sessions keeps sessions and leases only");
    }

    private static EdgeNodeLeased Lease(string incarnation, DateTimeOffset leaseUntil) => new()
    {
        Node = 1,
        Incarnation = incarnation,
        RenewedAt = leaseUntil.AddSeconds(-30),
        LeaseUntil = leaseUntil,
    };

    private static DeviceSessionChanged Online(string deviceId, DateTimeOffset? leaseUntil) => new()
    {
        DeviceId = deviceId,
        UserId = "bo",
        Node = 1,
        SessionId = "s-" + deviceId,
        ChangedAt = Now.AddSeconds(-5),
        LeaseUntil = leaseUntil,
    };

    private static DeviceSessionChanged Offline(string deviceId, DateTimeOffset at) => new()
    {
        DeviceId = deviceId,
        UserId = "bo",
        Node = null,
        SessionId = "s-" + deviceId,
        ChangedAt = at,
    };
}
