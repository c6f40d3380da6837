using System.Net.Sockets;
using Microsoft.AspNetCore.Connections.Features;

namespace Messaging.Edge.Sockets;

/// <summary>
/// Keeps an idle WebSocket alive and finds a vanished peer with the kernel's TCP keepalive, where
/// the connection has a TCP socket of Kestrel's: after <c>Edge:KeepAliveSeconds</c> of silence the
/// kernel probes every <c>Edge:TcpKeepAliveIntervalSeconds</c>, and after
/// <c>Edge:TcpKeepAliveProbes</c> unanswered probes the connection fails and its session ends.
/// ManagedWebSocket's own keep-alive (an unsolicited pong) is a .NET timer per socket, and the
/// runtime walks its long timer list about three times a second: with 10,240 sockets a node that
/// walk was 2.7 % of its CPU samples in groups of 1,024 (docs/benchmarks.md, twentieth session),
/// and it only found a dead peer once TCP gave up retransmitting the pong (~15 minutes).
/// </summary>
internal static class TcpKeepAlive
{
    /// <summary>
    /// Arms TCP keepalive on the connection's socket and returns the WebSocket keep-alive interval
    /// left to ManagedWebSocket: zero when the kernel probes, <c>Edge:KeepAliveSeconds</c> when it
    /// cannot (no TCP socket, or <c>Edge:TcpKeepAlive</c> off).
    /// </summary>
    public static TimeSpan Arm(HttpContext context, EdgeOptions options)
    {
        var interval = TimeSpan.FromSeconds(options.KeepAliveSeconds);
        if (!options.TcpKeepAlive || context.Features.Get<IConnectionSocketFeature>()?.Socket is not { } socket)
        {
            return interval;
        }

        try
        {
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, options.KeepAliveSeconds);
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval, options.TcpKeepAliveIntervalSeconds);
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount, options.TcpKeepAliveProbes);
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
            return TimeSpan.Zero;
        }
        catch (Exception ex) when (ex is SocketException or PlatformNotSupportedException or ObjectDisposedException)
        {
            // A platform without these options (or a socket already gone): the WebSocket's own keep-alive.
            return interval;
        }
    }
}
