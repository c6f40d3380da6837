using System.Net.WebSockets;
using Messaging.Contracts;
using Messaging.Contracts.Protocol;
using Messaging.Edge;
using Messaging.Edge.RateLimits;
using Messaging.Edge.Sockets;
using Messaging.Edge.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Messaging.UnitTests.Edge;

/// <summary>
/// The WebSocket send loop sends without a cancellation token (ManagedWebSocket's allocation-free
/// path); one registration per connection ends it instead: the socket's abort, the transport's, and
/// the queue's completion.
/// </summary>
public sealed class SendLoopTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly EdgeMetrics _metrics;

    public SendLoopTests()
    {
        _metrics = new EdgeMetrics(_services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), new ConnectionRegistry());
    }

    [Fact]
    public async Task Queued_frames_are_written_to_the_socket_in_order_and_a_close_ends_the_loop_with_the_close_handshake()
    {
        using var connection = Connection(closeTimeoutSeconds: 5);
        var stream = new PeerStream();
        using var socket = WebSocket.CreateFromStream(stream, new WebSocketCreationOptions { IsServer = true });
        var loop = connection.RunSendLoopAsync(socket, CancellationToken.None);

        connection.TryPush(new PongFrame("a")).Should().BeTrue();
        connection.TryPush(new PongFrame("b")).Should().BeTrue();
        connection.Close((int)WebSocketCloseStatus.NormalClosure, "");
        await loop.WaitAsync(TimeSpan.FromSeconds(10));

        var written = stream.WrittenText();
        written.IndexOf("\"a\"", StringComparison.Ordinal).Should().BePositive();
        written.IndexOf("\"b\"", StringComparison.Ordinal).Should().BeGreaterThan(written.IndexOf("\"a\"", StringComparison.Ordinal));
        stream.Aborted.Should().BeFalse("a close within the deadline aborts nothing");
        socket.State.Should().Be(WebSocketState.CloseSent);
    }

    [Fact]
    public async Task A_send_the_peer_does_not_take_ends_at_the_close_deadline_by_aborting_the_transport()
    {
        using var connection = Connection(closeTimeoutSeconds: 1);
        var stream = new PeerStream { Stalled = true };
        using var socket = WebSocket.CreateFromStream(stream, new WebSocketCreationOptions { IsServer = true });
        var loop = connection.RunSendLoopAsync(socket, CancellationToken.None, stream.Abort);

        connection.TryPush(new PongFrame("a")).Should().BeTrue();
        await stream.WriteStarted.WaitAsync(TimeSpan.FromSeconds(10));
        connection.Close((int)WebSocketCloseStatus.NormalClosure, "");
        await loop.WaitAsync(TimeSpan.FromSeconds(10));

        stream.Aborted.Should().BeTrue();
        socket.State.Should().Be(WebSocketState.Aborted);
        connection.Queue.IsCompleted.Should().BeTrue();
    }

    [Fact]
    public async Task An_aborted_request_ends_a_waiting_loop_and_completes_the_queue()
    {
        using var connection = Connection(closeTimeoutSeconds: 5);
        var stream = new PeerStream();
        using var socket = WebSocket.CreateFromStream(stream, new WebSocketCreationOptions { IsServer = true });
        using var aborted = new CancellationTokenSource();
        var loop = connection.RunSendLoopAsync(socket, aborted.Token, stream.Abort);

        await aborted.CancelAsync();
        await loop.WaitAsync(TimeSpan.FromSeconds(10));

        stream.Aborted.Should().BeTrue();
        connection.Queue.IsCompleted.Should().BeTrue();
        connection.TryPush(new PongFrame("late")).Should().BeFalse("the queue takes nothing once the connection is gone");
    }

    private Connection Connection(int closeTimeoutSeconds) =>
        new(new DeviceRef("ana", "web"), new EdgeOptions { CloseTimeoutSeconds = closeTimeoutSeconds }, new RateLimitOptions(), _metrics, NullLogger.Instance);

    public void Dispose()
    {
        _metrics.Dispose();
        _services.Dispose();
    }

    /// <summary>The peer's side of the socket: records what is written, or (stalled) never takes a write until aborted, as a client that stopped reading.</summary>
    private sealed class PeerStream : Stream
    {
        private readonly MemoryStream _written = new();
        private readonly TaskCompletionSource _abort = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _writeStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool Stalled { get; init; }

        public bool Aborted => _abort.Task.IsCompleted;

        public Task WriteStarted => _writeStarted.Task;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public void Abort() => _abort.TrySetResult();

        public string WrittenText()
        {
            lock (_written)
            {
                return System.Text.Encoding.UTF8.GetString(_written.ToArray());
            }
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            _writeStarted.TrySetResult();
            if (Stalled)
            {
                // Like a transport whose peer does not read: the write completes only when the connection is torn down.
                await _abort.Task;
                throw new IOException("connection aborted");
            }

            lock (_written)
            {
                _written.Write(buffer.Span);
            }
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await _abort.Task.WaitAsync(cancellationToken);
            return 0;
        }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
