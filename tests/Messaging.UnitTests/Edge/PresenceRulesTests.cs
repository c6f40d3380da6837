using Messaging.Contracts.Devices;
using Messaging.Edge.Presence;

namespace Messaging.UnitTests.Edge;

public sealed class PresenceRulesTests
{
    private static readonly DateTimeOffset Now = new(2026, 5, 6, 7, 8, 9, TimeSpan.Zero);

    [Fact]
    public void A_user_is_online_while_any_device_holds_a_live_session_and_counts_each_online_device()
    {
        var presence = PresenceRules.Aggregate("bo", [Online("phone", Now.AddSeconds(20)), Offline("tablet", Now.AddMinutes(-5)), Online("laptop", Now.AddSeconds(1))], Now);

        presence.Online.Should().BeTrue();
        presence.DevicesOnline.Should().Be(2);
        presence.LastSeen.Should().BeNull("last seen is shown only while offline");
    }

    [Fact]
    public void When_the_last_device_goes_offline_the_user_is_offline_and_last_seen_is_the_latest_change()
    {
        var presence = PresenceRules.Aggregate("bo", [Offline("phone", Now.AddMinutes(-1)), Offline("laptop", Now.AddMinutes(-9))], Now);

        presence.Should().BeEquivalentTo(new { UserId = "bo", Online = false, DevicesOnline = 0, LastSeen = (DateTimeOffset?)Now.AddMinutes(-1) });
    }

    [Fact]
    public void A_device_whose_lease_ran_out_is_offline_and_was_last_seen_at_its_last_renewal()
    {
        // A killed Edge node never writes the offline record: the lease is all that ends the session.
        var renewed = Now.AddSeconds(-40);
        var expired = Online("phone", leaseUntil: Now.AddSeconds(-10)) with { ChangedAt = renewed };
        var expiringNow = Online("laptop", leaseUntil: Now) with { ChangedAt = renewed.AddSeconds(-5) };

        var presence = PresenceRules.Aggregate("bo", [expired, expiringNow], Now);

        presence.Online.Should().BeFalse();
        presence.DevicesOnline.Should().Be(0);
        presence.LastSeen.Should().Be(renewed);
    }

    [Fact]
    public void A_session_without_a_lease_is_online_until_its_offline_record()
    {
        PresenceRules.Aggregate("bo", [Online("phone", leaseUntil: null)], Now).Online.Should().BeTrue();
        PresenceRules.Aggregate("bo", [Offline("phone", Now)], Now).Online.Should().BeFalse();
    }

    [Fact]
    public void A_user_who_never_connected_is_offline_without_last_seen()
    {
        PresenceRules.Aggregate("zed", [], Now).Should().BeEquivalentTo(new { UserId = "zed", Online = false, DevicesOnline = 0, LastSeen = (DateTimeOffset?)null });
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

        SessionRules.IsOnline(session, Now).Should().Be(online);
        (SessionRules.NodeOf(session, Now, edgeNodes: 4) >= 0).Should().Be(online);
    }

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
