using Messaging.Contracts;
using Messaging.Contracts.Devices;
using Messaging.Contracts.Serialization;
using Messaging.IntegrationTests.Harness;
using static Messaging.IntegrationTests.Edge.EdgeHost;

namespace Messaging.IntegrationTests.Edge;

/// <summary>A 3 s lease renewed in bursts of one socket: every socket is a slice of its own (up to 10 a period).</summary>
public sealed class SlicedRenewalEdgeHost : EdgeHost
{
    public const int LeaseSeconds = 3;

    protected override void Configure(Dictionary<string, string?> settings)
    {
        settings["Edge:SessionLeaseSeconds"] = LeaseSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Edge:SessionRenewalBurst"] = "1";
    }
}

/// <summary>Session renewals spread over slices of the renewal period (<c>Edge:SessionRenewalBurst</c>) on a real broker.</summary>
public sealed class SessionRenewalTests(SlicedRenewalEdgeHost edge) : IClassFixture<SlicedRenewalEdgeHost>
{
    [Fact]
    public async Task Sessions_renewed_in_slices_are_each_renewed_before_their_lease_runs_out()
    {
        var devices = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            var (user, device) = (NextId("u"), NextId("d"));
            await edge.ConnectAsync(user, device);
            devices.Add(DeviceRef.AddressOf(user, device));
        }

        var sessions = edge.Probe(edge.Topics.DeviceSessions);
        foreach (var address in devices)
        {
            var records = await Eventually.ReturnsAsync(
                () => sessions.ReadAsync(address, b => Codecs.Devices.Decode(b).Value as DeviceSessionChanged),
                l => l.Count >= 4,
                TimeSpan.FromSeconds(30),
                $"three renewals of {address}");

            records.Should().OnlyContain(r => r.Node == NodeId && r.SessionId == records[0].SessionId, "every renewal is of the one live session");
            for (var i = 1; i < records.Count; i++)
            {
                // Each record must still be valid when the next one arrives, or the Router would see the device offline between them.
                records[i - 1].LeaseUntil.Should().BeAfter(records[i].ChangedAt, $"renewal {i} of {address} came before the lease of the one before it ran out");
                (records[i].ChangedAt - records[i - 1].ChangedAt).Should().BeLessThan(TimeSpan.FromSeconds(SlicedRenewalEdgeHost.LeaseSeconds));
            }
        }
    }
}
