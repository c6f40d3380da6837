using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using Messaging.Bench.Connections;
using Messaging.UnitTests.Edge;

namespace Messaging.UnitTests.Bench;

/// <summary>
/// The generator's polled WebSocket client against the runtime's server-side WebSocket on a
/// loopback socket (no infrastructure): frames of every length encoding, masking, pings, both
/// close handshakes, a refused upgrade and frames that arrive with the 101.
/// </summary>
public sealed class PolledWebSocketTests : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private readonly SocketPoller _poller = new();

    public void Dispose() => _poller.Dispose();

    [Fact]
    public async Task Messages_of_every_length_encoding_arrive_whole_and_in_order()
    {
        using var server = await LoopbackServer.StartAsync();
        var owner = new Collector();
        var (client, socket) = await OpenAsync(server, owner);
        using var clientSocket = client;
        using var serverSocket = socket;
        int[] lengths = [0, 1, 125, 126, 65_535, 65_536, 300_000, .. Enumerable.Repeat(40, 50)];

        for (var i = 0; i < lengths.Length; i++)
        {
            await socket.SendAsync(Body(i, lengths[i]), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        }

        await Eventually.TrueAsync(() => owner.Messages.Count == lengths.Length, Wait);
        owner.Messages.Select(m => m.Length).Should().Equal(lengths);
        owner.Messages.Select((m, i) => m.AsSpan().SequenceEqual(Body(i, lengths[i]))).Should().AllBeEquivalentTo(true);
    }

    [Fact]
    public async Task A_message_sent_in_fragments_arrives_as_one()
    {
        using var server = await LoopbackServer.StartAsync();
        var owner = new Collector();
        var (client, socket) = await OpenAsync(server, owner);
        using var clientSocket = client;
        using var serverSocket = socket;

        await socket.SendAsync("frag"u8.ToArray(), WebSocketMessageType.Text, endOfMessage: false, CancellationToken.None);
        await socket.SendAsync("ments"u8.ToArray(), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);

        await Eventually.TrueAsync(() => owner.Messages.Count == 1, Wait);
        Encoding.UTF8.GetString(owner.Messages.Single()).Should().Be("fragments");
    }

    [Theory]
    [InlineData(10)]
    [InlineData(200)]
    [InlineData(70_000)]
    public async Task Text_sent_reaches_the_server_masked_and_intact(int length)
    {
        using var server = await LoopbackServer.StartAsync();
        var (client, socket) = await OpenAsync(server, new Collector());
        using var clientSocket = client;
        using var serverSocket = socket;
        var body = Body(7, length);

        client.TrySendText(body).Should().BeTrue();

        // The server-side WebSocket fails the connection on an unmasked frame.
        (await ReceiveAsync(socket)).Should().Equal(body);
    }

    [Fact]
    public async Task The_servers_pings_are_answered_so_it_keeps_the_connection()
    {
        using var server = await LoopbackServer.StartAsync();
        var (client, socket) = await OpenAsync(server, new Collector(), TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(500));
        using var clientSocket = client;
        using var serverSocket = socket;
        var receive = ReceiveAsync(socket);

        await Eventually.TrueAsync(() => client.PingsAnswered >= 5, Wait);
        client.TrySendText("still here"u8).Should().BeTrue();

        Encoding.UTF8.GetString(await receive).Should().Be("still here");
        socket.State.Should().Be(WebSocketState.Open);
    }

    [Fact]
    public async Task The_server_closing_completes_the_connection_with_its_status()
    {
        using var server = await LoopbackServer.StartAsync();
        var (client, socket) = await OpenAsync(server, new Collector());
        using var clientSocket = client;
        using var serverSocket = socket;

        await socket.CloseAsync(WebSocketCloseStatus.PolicyViolation, "bye", CancellationToken.None).WaitAsync(Wait);

        await client.Completion.WaitAsync(Wait);
        client.CloseStatus.Should().Be(WebSocketCloseStatus.PolicyViolation);
        client.CloseStatusDescription.Should().Be("bye");
        client.IsOpen.Should().BeFalse();
        client.TrySendText("late"u8).Should().BeFalse();
    }

    [Fact]
    public async Task The_client_closing_is_answered_and_completes_the_connection()
    {
        using var server = await LoopbackServer.StartAsync();
        var (client, socket) = await OpenAsync(server, new Collector());
        using var clientSocket = client;
        using var serverSocket = socket;
        var receive = socket.ReceiveAsync(new byte[16], CancellationToken.None);

        client.TrySendClose(WebSocketCloseStatus.NormalClosure, "done").Should().BeTrue();

        (await receive.WaitAsync(Wait)).MessageType.Should().Be(WebSocketMessageType.Close);
        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "ok", CancellationToken.None);
        await client.Completion.WaitAsync(Wait);
        client.CloseStatus.Should().Be(WebSocketCloseStatus.NormalClosure);
    }

    [Fact]
    public async Task Frames_that_arrive_with_the_upgrade_response_are_delivered()
    {
        using var server = await LoopbackServer.StartAsync();
        var owner = new Collector();
        var connecting = ConnectAsync(server, owner);
        using var accepted = await server.AcceptAsync();

        // One write: the 101, a whole frame and the first half of a second one; then the rest.
        var response = Encoding.ASCII.GetBytes(LoopbackServer.SwitchingProtocols);
        await accepted.SendAsync(response.Concat(new byte[] { 0x81, 2, (byte)'h', (byte)'i', 0x81, 3, (byte)'y' }).ToArray());
        using var client = await connecting;
        await accepted.SendAsync(new byte[] { (byte)'o', (byte)'u' });

        await Eventually.TrueAsync(() => owner.Messages.Count == 2, Wait);
        owner.Messages.Select(Encoding.UTF8.GetString).Should().Equal("hi", "you");
    }

    [Fact]
    public async Task A_refused_upgrade_fails_the_connect_with_the_status_line()
    {
        using var server = await LoopbackServer.StartAsync();
        var connecting = ConnectAsync(server, new Collector());
        using var accepted = await server.AcceptAsync();

        await accepted.SendAsync("HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n"u8.ToArray());

        var connect = async () => await connecting;
        (await connect.Should().ThrowAsync<WebSocketException>()).WithMessage("*401 Unauthorized*");
    }

    [Fact]
    public async Task The_upgrade_request_carries_the_bearer_token_and_the_path()
    {
        using var server = await LoopbackServer.StartAsync();
        var (client, socket) = await OpenAsync(server, new Collector());
        using var clientSocket = client;
        using var serverSocket = socket;

        server.LastRequest.Should().StartWith("GET /ws?x=1 HTTP/1.1\r\n").And.Contain("\r\nAuthorization: Bearer token-1\r\n");
    }

    private async Task<(PolledWebSocket Client, WebSocket Server)> OpenAsync(LoopbackServer server, Collector owner, TimeSpan? keepAliveInterval = null, TimeSpan? keepAliveTimeout = null)
    {
        var connecting = ConnectAsync(server, owner);
        var socket = await server.AcceptWebSocketAsync(keepAliveInterval, keepAliveTimeout);
        return (await connecting, socket);
    }

    private Task<PolledWebSocket> ConnectAsync(LoopbackServer server, Collector owner) =>
        Task.Factory.StartNew(
            () => PolledWebSocket.Connect(new Uri($"ws://127.0.0.1:{server.Port}/ws?x=1"), "token-1", _poller, owner, 1024 * 1024, Wait, CancellationToken.None),
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);

    private static byte[] Body(int index, int length)
    {
        var body = new byte[length];
        for (var i = 0; i < length; i++)
        {
            body[i] = (byte)('a' + ((index + i) % 26));
        }

        return body;
    }

    private static async Task<byte[]> ReceiveAsync(WebSocket socket)
    {
        var buffer = new byte[128 * 1024];
        var filled = 0;
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer.AsMemory(filled), CancellationToken.None).AsTask().WaitAsync(Wait);
            filled += result.Count;
            if (result.EndOfMessage)
            {
                return buffer[..filled];
            }
        }
    }

    private sealed class Collector : IPolledWebSocketOwner
    {
        private readonly ConcurrentQueue<byte[]> _messages = new();

        public IReadOnlyList<byte[]> Messages => [.. _messages];

        public void OnMessage(ReadOnlySpan<byte> payload) => _messages.Enqueue(payload.ToArray());
    }

    /// <summary>A loopback listener that answers the upgrade itself and serves the runtime's server-side WebSocket.</summary>
    private sealed class LoopbackServer : IDisposable
    {
        public const string SwitchingProtocols = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: unchecked\r\n\r\n";

        private readonly TcpListener _listener;
        private readonly List<IDisposable> _accepted = [];

        private LoopbackServer(TcpListener listener) => _listener = listener;

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public string LastRequest { get; private set; } = string.Empty;

        public static Task<LoopbackServer> StartAsync()
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return Task.FromResult(new LoopbackServer(listener));
        }

        public async Task<Socket> AcceptAsync()
        {
            var socket = await _listener.AcceptSocketAsync().WaitAsync(Wait);
            var request = new byte[8192];
            var filled = 0;
            while (request.AsSpan(0, filled).IndexOf("\r\n\r\n"u8) < 0)
            {
                filled += await socket.ReceiveAsync(request.AsMemory(filled));
            }

            LastRequest = Encoding.ASCII.GetString(request, 0, filled);
            return socket;
        }

        public async Task<WebSocket> AcceptWebSocketAsync(TimeSpan? keepAliveInterval = null, TimeSpan? keepAliveTimeout = null)
        {
            var socket = await AcceptAsync();
            await socket.SendAsync(Encoding.ASCII.GetBytes(SwitchingProtocols));
            var stream = new NetworkStream(socket, ownsSocket: true);
            _accepted.Add(stream);
            return WebSocket.CreateFromStream(stream, new WebSocketCreationOptions
            {
                IsServer = true,
                KeepAliveInterval = keepAliveInterval ?? TimeSpan.Zero,
                KeepAliveTimeout = keepAliveTimeout ?? Timeout.InfiniteTimeSpan,
            });
        }

        public void Dispose()
        {
            foreach (var accepted in _accepted)
            {
                accepted.Dispose();
            }

            _listener.Stop();
        }
    }
}
