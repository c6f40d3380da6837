using System.Net.Sockets;
using Messaging.Edge;
using Messaging.Edge.Sockets;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;

namespace Messaging.UnitTests.Edge;

public sealed class TcpKeepAliveTests
{
    private static readonly EdgeOptions Options = new() { KeepAliveSeconds = 90, TcpKeepAliveIntervalSeconds = 11, TcpKeepAliveProbes = 3 };

    [Fact]
    public void A_tcp_socket_gets_the_kernels_keepalive_and_the_websocket_none()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

        TcpKeepAlive.Arm(ContextWith(socket), Options).Should().Be(TimeSpan.Zero);

        ((int)socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive)!).Should().NotBe(0);
        socket.GetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime).Should().Be(90);
        socket.GetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval).Should().Be(11);
        socket.GetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount).Should().Be(3);
    }

    [Fact]
    public void Without_a_socket_or_with_tcp_keepalive_off_the_websocket_keeps_its_own_interval()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

        TcpKeepAlive.Arm(new DefaultHttpContext(), Options).Should().Be(TimeSpan.FromSeconds(90));
        TcpKeepAlive.Arm(ContextWith(socket), new EdgeOptions { KeepAliveSeconds = 90, TcpKeepAlive = false }).Should().Be(TimeSpan.FromSeconds(90));
        ((int)socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive)!).Should().Be(0, "nothing was set on the socket");
    }

    private static DefaultHttpContext ContextWith(Socket socket)
    {
        var context = new DefaultHttpContext();
        context.Features.Set<IConnectionSocketFeature>(new SocketFeature(socket));
        return context;
    }

    private sealed class SocketFeature(Socket socket) : IConnectionSocketFeature
    {
        public Socket Socket { get; } = socket;
    }
}
