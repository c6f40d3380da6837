using System.Globalization;
using Messaging.IntegrationTests.Harness;
using static Messaging.IntegrationTests.Edge.EdgeHost;

namespace Messaging.IntegrationTests.Edge;

/// <summary>An Edge whose idle sockets are probed after 7 s of silence.</summary>
public sealed class ShortKeepAliveEdgeHost : EdgeHost
{
    protected override void Configure(Dictionary<string, string?> settings) => settings["Edge:KeepAliveSeconds"] = "7";
}

/// <summary>The same Edge with <c>Edge:TcpKeepAlive</c> off: keep-alive is ManagedWebSocket's pong timer again.</summary>
public sealed class WebSocketKeepAliveEdgeHost : EdgeHost
{
    protected override void Configure(Dictionary<string, string?> settings)
    {
        settings["Edge:KeepAliveSeconds"] = "7";
        settings["Edge:TcpKeepAlive"] = "false";
    }
}

/// <summary>
/// What the kernel says about the server's side of a real WebSocket (<c>/proc/net/tcp</c>: the
/// timer armed on an idle established connection is 2 when TCP keepalive is on, 0 when nothing is).
/// </summary>
public sealed class EdgeTcpKeepAliveTests(ShortKeepAliveEdgeHost edge) : IClassFixture<ShortKeepAliveEdgeHost>
{
    [Fact]
    public async Task An_idle_socket_is_probed_by_the_kernel_after_the_configured_silence()
    {
        var before = KernelSockets.ServerSide(edge.Host.BaseAddress.Port);
        var client = await edge.ConnectAsync(NextId("u"), NextId("phone"));
        await client.PingAsync();

        var timer = await Eventually.ReturnsAsync(
            () => Task.FromResult(KernelSockets.NewIdle(edge.Host.BaseAddress.Port, before)),
            t => t is { Kind: 2 },
            Wait,
            "the new connection's keepalive timer");

        timer!.Value.Seconds.Should().BeInRange(0.01, 7.0, "the first probe is due within Edge:KeepAliveSeconds of silence");
    }
}

public sealed class EdgeWebSocketKeepAliveTests(WebSocketKeepAliveEdgeHost edge) : IClassFixture<WebSocketKeepAliveEdgeHost>
{
    [Fact]
    public async Task With_tcp_keepalive_off_an_idle_socket_has_no_kernel_timer_armed()
    {
        var before = KernelSockets.ServerSide(edge.Host.BaseAddress.Port);
        var client = await edge.ConnectAsync(NextId("u"), NextId("phone"));
        await client.PingAsync();

        var timer = await Eventually.ReturnsAsync(
            () => Task.FromResult(KernelSockets.NewIdle(edge.Host.BaseAddress.Port, before)),
            t => t is { Kind: 0 },
            Wait,
            "the new connection with no timer armed");

        timer!.Value.Kind.Should().Be(0);
    }
}

/// <summary>Server-side IPv4 TCP connections of a port as <c>/proc/net/tcp</c> lists them.</summary>
internal static class KernelSockets
{
    /// <summary>The inodes of the established connections whose local port is <paramref name="port"/>.</summary>
    public static HashSet<string> ServerSide(int port)
    {
        var inodes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in Established(port))
        {
            inodes.Add(line.Inode);
        }

        return inodes;
    }

    /// <summary>
    /// The timer of the one established connection of <paramref name="port"/> not in
    /// <paramref name="before"/> with nothing queued to send (kind: 0 none, 1 retransmit, 2
    /// keepalive, 4 zero-window probe; when: seconds until it fires), or null while there is none.
    /// </summary>
    public static (int Kind, double Seconds)? NewIdle(int port, HashSet<string> before)
    {
        foreach (var line in Established(port))
        {
            if (!before.Contains(line.Inode) && line.TxQueue == 0)
            {
                return (line.TimerKind, line.TimerTicks / 100.0);
            }
        }

        return null;
    }

    private static IEnumerable<(string Inode, long TxQueue, int TimerKind, long TimerTicks)> Established(int port)
    {
        var local = port.ToString("X4", CultureInfo.InvariantCulture);
        foreach (var line in File.ReadLines("/proc/net/tcp").Skip(1))
        {
            // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 10 || !fields[1].EndsWith(":" + local, StringComparison.Ordinal) || fields[3] != "01")
            {
                continue;
            }

            var queues = fields[4].Split(':');
            var timer = fields[5].Split(':');
            yield return (
                fields[9],
                long.Parse(queues[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture),
                int.Parse(timer[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture),
                long.Parse(timer[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture));
        }
    }
}
