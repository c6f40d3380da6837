using System.Buffers;
using System.Net.Sockets;

namespace Messaging.Edge.Sockets;

/// <summary>
/// Writes a WebSocket connection's outbound bytes straight to its TCP socket, from the thread that
/// has them: a push to an idle socket is one non-blocking <c>send</c> on the delivery thread. The
/// way through ManagedWebSocket and Kestrel's output pipe woke the connection's send loop on the
/// thread pool, copied the frame twice (ManagedWebSocket's buffer, the pipe) and woke Kestrel's
/// socket sender on its I/O queue: in groups of 1,024 the send loop alone was 15 % of an Edge
/// node (docs/benchmarks.md, thirteenth session).
/// </summary>
/// <remarks>
/// Every write of the connection goes through here (ManagedWebSocket's control frames through
/// <see cref="DirectWriteStream"/>), so bytes reach the socket in the order written and whole
/// frames never interleave. What the kernel does not take at once (its send buffer is full: the
/// peer reads slowly) is copied and sent asynchronously; until that is done, <see cref="TryWriteNow"/>
/// refuses (the caller queues instead, so the send queue's bounds still detect a slow consumer) and
/// <see cref="WriteAsync"/> waits. So at most one frame's rest is held here.
/// </remarks>
internal sealed class SocketFrameWriter
{
    private readonly Socket _socket;
    private readonly Lock _gate = new();
    private readonly TaskCompletionSource _closedSignal = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _draining;
    private bool _closed;

    public SocketFrameWriter(Socket socket)
    {
        _socket = socket;
        // A synchronous send must never wait for room: it runs on the delivery thread, which feeds
        // every socket of the node. Asynchronous operations (Kestrel's reads, the drain below)
        // do not depend on this flag.
        _socket.Blocking = false;
    }

    /// <summary>True while the rest of an earlier write is still being sent.</summary>
    public bool IsDraining
    {
        get
        {
            lock (_gate)
            {
                return _draining is not null;
            }
        }
    }

    public bool IsClosed
    {
        get
        {
            lock (_gate)
            {
                return _closed;
            }
        }
    }

    /// <summary>
    /// Writes <paramref name="bytes"/> now if nothing is waiting before them; what the kernel does
    /// not take is kept and sent in the background. False (nothing written) while an earlier
    /// write is still draining or once the socket failed or closed.
    /// </summary>
    public bool TryWriteNow(ReadOnlySpan<byte> bytes)
    {
        lock (_gate)
        {
            if (_closed || _draining is not null)
            {
                return false;
            }

            var sent = SendNonBlocking(bytes);
            if (sent < 0)
            {
                CloseLocked();
                return false;
            }

            if (sent < bytes.Length)
            {
                StartDrainLocked(bytes[sent..]);
            }

            return true;
        }
    }

    /// <summary>Writes <paramref name="bytes"/> after everything written before; completes once the kernel took them all.</summary>
    public async ValueTask WriteAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task wait;
            bool ours;
            lock (_gate)
            {
                if (_closed)
                {
                    throw new IOException("The socket is closed.");
                }

                if (_draining is null)
                {
                    var sent = SendNonBlocking(bytes.Span);
                    if (sent < 0)
                    {
                        CloseLocked();
                        throw new IOException("The socket failed.");
                    }

                    if (sent == bytes.Length)
                    {
                        return;
                    }

                    wait = StartDrainLocked(bytes.Span[sent..]);
                    ours = true;
                }
                else
                {
                    wait = _draining;
                    ours = false;
                }
            }

            await Task.WhenAny(wait, _closedSignal.Task).WaitAsync(cancellationToken);
            if (IsClosed)
            {
                throw new IOException("The socket closed before the write finished.");
            }

            if (ours)
            {
                return;
            }
        }
    }

    /// <summary>No write is accepted from now on; a write waiting for its drain fails.</summary>
    public void Close()
    {
        lock (_gate)
        {
            CloseLocked();
        }
    }

    private void CloseLocked()
    {
        _closed = true;
        _closedSignal.TrySetResult();
    }

    /// <summary>Bytes the kernel took (all, or fewer when its buffer is full); -1 when the socket failed.</summary>
    private int SendNonBlocking(ReadOnlySpan<byte> bytes)
    {
        var total = 0;
        while (total < bytes.Length)
        {
            int sent;
            SocketError error;
            try
            {
                sent = _socket.Send(bytes[total..], SocketFlags.None, out error);
            }
            catch (ObjectDisposedException)
            {
                return -1;
            }

            if (error == SocketError.Success)
            {
                total += sent;
            }
            else if (error == SocketError.WouldBlock)
            {
                return total;
            }
            else
            {
                return -1;
            }
        }

        return total;
    }

    private Task StartDrainLocked(ReadOnlySpan<byte> rest)
    {
        var copy = ArrayPool<byte>.Shared.Rent(rest.Length);
        rest.CopyTo(copy);
        var length = rest.Length;
        // Run off the lock: the drain takes it again when done.
        var draining = Task.Run(() => DrainAsync(copy, length));
        _draining = draining;
        return draining;
    }

    private async Task DrainAsync(byte[] rest, int length)
    {
        var offset = 0;
        var failed = false;
        try
        {
            while (offset < length)
            {
                offset += await _socket.SendAsync(rest.AsMemory(offset, length - offset), SocketFlags.None);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            failed = true;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rest);
            lock (_gate)
            {
                _draining = null;
                if (failed)
                {
                    CloseLocked();
                }
            }
        }
    }
}
