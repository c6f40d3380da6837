using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using Messaging.Contracts.Protocol;
using Messaging.Edge.Sockets;

namespace Messaging.UnitTests.Edge;

/// <summary>
/// The writer behind pushes straight to the socket, on a loopback TCP pair (no infrastructure),
/// read back by a client WebSocket: what it writes must be well-formed frames, whole and in order,
/// also when the kernel takes only part of a frame.
/// </summary>
public sealed class SocketFrameWriterTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData(0)]
    [InlineData(125)]
    [InlineData(126)]
    [InlineData(65_535)]
    [InlineData(65_536)]
    [InlineData(300_000)]
    public async Task A_frame_written_at_once_reaches_a_websocket_client_whole_at_every_length_encoding(int length)
    {
        using var pair = await SocketPair.OpenAsync();
        var writer = new SocketFrameWriter(pair.Server);
        var frame = FrameOf(new string('x', length));

        writer.TryWriteNow(frame.Wire.Span).Should().BeTrue();

        (await pair.ReadMessageAsync()).Should().Be(new string('x', length));
        frame.Release();
    }

    [Fact]
    public async Task Frames_written_while_the_peer_does_not_read_arrive_whole_and_in_order_once_it_reads()
    {
        using var pair = await SocketPair.OpenAsync(sendBuffer: 4096, receiveBuffer: 4096);
        var writer = new SocketFrameWriter(pair.Server);
        var body = new string('y', 20_000);

        // The first write fills the kernel's buffers: the writer keeps the rest and drains it.
        var frames = Enumerable.Range(0, 40).Select(i => FrameOf(i.ToString("D3", System.Globalization.CultureInfo.InvariantCulture) + body)).ToList();
        writer.TryWriteNow(frames[0].Wire.Span).Should().BeTrue();
        writer.IsDraining.Should().BeTrue("4 KiB socket buffers cannot take 20 KB");
        writer.TryWriteNow(frames[1].Wire.Span).Should().BeFalse("nothing may overtake the rest of the first frame");

        var writes = Task.Run(async () =>
        {
            for (var i = 1; i < frames.Count; i++)
            {
                await writer.WriteAsync(frames[i].Wire, CancellationToken.None);
            }
        });

        for (var i = 0; i < frames.Count; i++)
        {
            var message = await pair.ReadMessageAsync();
            message.Should().StartWith(i.ToString("D3", System.Globalization.CultureInfo.InvariantCulture)).And.HaveLength(3 + body.Length);
        }

        await writes.WaitAsync(Wait);
        writer.IsDraining.Should().BeFalse();
        writer.TryWriteNow(frames[0].Wire.Span).Should().BeTrue("the socket is idle again");
        (await pair.ReadMessageAsync()).Should().StartWith("000");
        frames.ForEach(f => f.Release());
    }

    [Fact]
    public async Task After_close_nothing_is_written_and_a_write_waiting_for_the_drain_fails()
    {
        using var pair = await SocketPair.OpenAsync(sendBuffer: 4096, receiveBuffer: 4096);
        var writer = new SocketFrameWriter(pair.Server);
        var frame = FrameOf(new string('z', 50_000));
        writer.TryWriteNow(frame.Wire.Span).Should().BeTrue();
        var waiting = writer.WriteAsync(frame.Wire, CancellationToken.None).AsTask();
        waiting.IsCompleted.Should().BeFalse("the peer reads nothing, so the first frame is still draining");

        writer.Close();

        await FluentActions.Awaiting(() => waiting.WaitAsync(Wait)).Should().ThrowAsync<IOException>();
        writer.TryWriteNow(frame.Wire.Span).Should().BeFalse();
        await FluentActions.Awaiting(() => writer.WriteAsync(frame.Wire, CancellationToken.None).AsTask()).Should().ThrowAsync<IOException>();
        frame.Release();
    }

    [Fact]
    public async Task A_write_to_a_socket_the_peer_reset_fails_and_closes_the_writer()
    {
        using var pair = await SocketPair.OpenAsync();
        var writer = new SocketFrameWriter(pair.Server);
        var frame = FrameOf("after the peer left");
        pair.Client.LingerState = new LingerOption(true, 0);
        pair.Client.Close(); // RST

        await Eventually.TrueAsync(
            () =>
            {
                writer.TryWriteNow(frame.Wire.Span);
                return writer.IsClosed;
            },
            Wait);
        frame.Release();
    }

    private static SharedFrame FrameOf(string body) => SharedFrame.Encode(new ErrorFrame(null, "x", body));

    /// <summary>A connected loopback pair: the server end is written raw, the client end read as a WebSocket.</summary>
    private sealed class SocketPair : IDisposable
    {
        private readonly WebSocket _reader;

        private SocketPair(Socket server, Socket client)
        {
            Server = server;
            Client = client;
            _reader = WebSocket.CreateFromStream(new NetworkStream(client, ownsSocket: false), new WebSocketCreationOptions { IsServer = false });
        }

        public Socket Server { get; }

        public Socket Client { get; }

        public static async Task<SocketPair> OpenAsync(int? sendBuffer = null, int? receiveBuffer = null)
        {
            using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            listener.Listen(1);
            var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            if (receiveBuffer is { } receive)
            {
                client.ReceiveBufferSize = receive;
            }

            await client.ConnectAsync(listener.LocalEndPoint!);
            var server = await listener.AcceptAsync();
            if (sendBuffer is { } send)
            {
                server.SendBufferSize = send;
            }

            return new SocketPair(server, client);
        }

        /// <summary>The next message's text: every byte must belong to a well-formed final text frame.</summary>
        public async Task<string> ReadMessageAsync()
        {
            using var timeout = new CancellationTokenSource(Wait);
            var buffer = new byte[512 * 1024];
            var length = 0;
            ValueWebSocketReceiveResult result;
            do
            {
                result = await _reader.ReceiveAsync(buffer.AsMemory(length), timeout.Token);
                result.MessageType.Should().Be(WebSocketMessageType.Text);
                length += result.Count;
            }
            while (!result.EndOfMessage);

            // ErrorFrame JSON: the body is its message; the tests compare bodies.
            var json = Encoding.UTF8.GetString(buffer, 0, length);
            using var document = System.Text.Json.JsonDocument.Parse(json);
            return document.RootElement.GetProperty("message").GetString()!;
        }

        public void Dispose()
        {
            _reader.Dispose();
            Server.Dispose();
            Client.Dispose();
        }
    }
}
