namespace Messaging.Edge.Sockets;

/// <summary>
/// The stream ManagedWebSocket runs on when pushes go straight to the socket: it reads what
/// Kestrel read (the upgraded request stream) and writes through the connection's
/// <see cref="SocketFrameWriter"/>, so its control frames (pong, ping, close) and the pushes
/// written beside it share one ordered way to the socket.
/// </summary>
internal sealed class DirectWriteStream(Stream upgraded, SocketFrameWriter writer) : Stream
{
    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => upgraded.Read(buffer, offset, count);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        upgraded.ReadAsync(buffer, offset, count, cancellationToken);

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        upgraded.ReadAsync(buffer, cancellationToken);

    public override void Write(byte[] buffer, int offset, int count) =>
        WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        writer.WriteAsync(buffer, cancellationToken);

    // Every write is on the socket (or draining to it) when it completes: nothing to flush.
    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            // ManagedWebSocket disposes its stream when it aborts or closes: no write may follow.
            writer.Close();
            upgraded.Dispose();
        }

        base.Dispose(disposing);
    }
}
