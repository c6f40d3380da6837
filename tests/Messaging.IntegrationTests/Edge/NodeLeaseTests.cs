using Messaging.Contracts;
using Messaging.Contracts.Devices;
using Messaging.Contracts.Serialization;
using Messaging.Edge.Presence;
using Messaging.IntegrationTests.Harness;
using Microsoft.Extensions.DependencyInjection;
using static Messaging.IntegrationTests.Edge.EdgeHost;

namespace Messaging.IntegrationTests.Edge;

/// <summary>
/// A 6 s lease, so a test sees several renewals and sessions older than their own lease. With 3 s
/// (a renewal every second, 2 s to spare) the test failed once in five runs beside other classes on
/// 2 cores, 12 s in, where only the checks of the leases it read can fail (the message was not
/// kept): a renewal 2 s late is the likely cause. Production's 30 s lease leaves 20 s to spare.
/// </summary>
public sealed class ShortLeaseEdgeHost : EdgeHost
{
    public const int LeaseSeconds = 6;

    protected override void Configure(Dictionary<string, string?> settings) =>
        settings["Edge:SessionLeaseSeconds"] = LeaseSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>The node's lease keeps its sessions alive (<see cref="EdgeNodeLeased"/>) on a real broker.</summary>
public sealed class NodeLeaseTests(ShortLeaseEdgeHost edge) : IClassFixture<ShortLeaseEdgeHost>
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(ShortLeaseEdgeHost.LeaseSeconds);

    [Fact]
    public async Task Devices_stay_online_past_their_own_lease_on_the_node_lease_alone_which_is_renewed_in_time()
    {
        var devices = new List<(string User, string Address)>();
        for (var i = 0; i < 3; i++)
        {
            var (user, device) = (NextId("u"), NextId("d"));
            await edge.ConnectAsync(user, device);
            devices.Add((user, DeviceRef.AddressOf(user, device)));
        }

        var connected = DateTimeOffset.UtcNow;
        var probe = edge.Probe(edge.Topics.DeviceSessions);
        var leases = await Eventually.ReturnsAsync(
            () => probe.ReadAsync(SessionRules.NodeLeaseKey(NodeId), b => Codecs.Devices.Decode(b).Value as EdgeNodeLeased),
            l => l.Any(x => x.RenewedAt > connected + (2 * Lease)),
            TimeSpan.FromSeconds(45),
            "node lease renewals for twice the lease after the connects");

        leases.Should().OnlyContain(l => l.Node == NodeId && l.Incarnation == leases[0].Incarnation, "one run of the node renews one lease");
        for (var i = 1; i < leases.Count; i++)
        {
            // Each lease must still hold when the next one is written, or every session of the node would drop out between them.
            leases[i - 1].LeaseUntil.Should().BeAfter(leases[i].RenewedAt, $"renewal {i} came before the lease before it ran out");
        }

        var presence = edge.Host.Services.GetRequiredService<PresenceDirectory>();
        foreach (var (user, address) in devices)
        {
            var sessions = await probe.ReadAsync(address, b => Codecs.Devices.Decode(b).Value as DeviceSessionChanged);
            sessions.Should().ContainSingle("a session is written when its socket comes and goes, not renewed");
            sessions[0].Incarnation.Should().Be(leases[0].Incarnation);
            sessions[0].LeaseUntil.Should().BeBefore(DateTimeOffset.UtcNow, "its own lease ran out long ago");

            // The rule the Router routes by (SessionRules): online on the node's lease alone.
            await Eventually.TrueAsync(
                () => Task.FromResult(presence.Snapshot(user, DateTimeOffset.UtcNow).DevicesOnline == 1),
                TimeSpan.FromSeconds(10),
                $"{user} online past the own lease of its session");
        }
    }
}
