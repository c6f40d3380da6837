using System.Threading.Channels;

namespace Messaging.Edge.Sockets;

public enum EnqueueResult
{
    Enqueued,

    /// <summary>The live queue is full (frames or bytes): the client does not read fast enough and must be disconnected.</summary>
    Full,

    /// <summary>The connection is closing: the frame is dropped (the inbox still has it).</summary>
    Closed,
}

/// <summary>
/// The outbound queues of one connection, and the backpressure policy:
/// <list type="bullet">
/// <item>live frames (pushes, replies) never wait: <see cref="TryEnqueue"/> fails with
/// <see cref="EnqueueResult.Full"/> when <c>capacity</c> frames are pending or the frame would
/// take the queued bytes past <c>maxBytes</c>, and the caller closes the socket (4003). A slow
/// client cannot make the node buffer without bound or stall the delivery consumer that feeds
/// every other socket. Frames alone were not a bound (issue 8): 1,024 queued frames of up to
/// 64 KiB bodies, which JSON escaping can grow six-fold, are hundreds of MiB per socket.</item>
/// <item>bulk frames (sync) wait for room (<see cref="EnqueueBulkAsync"/>) in a separate queue,
/// so a large backlog is paced by the client's reading and never crowds out live frames. They
/// wait while the queue holds more than <c>bulkBytes</c> (a fraction of <c>maxBytes</c>), so a
/// sync in progress always leaves live frames <c>maxBytes - bulkBytes</c> of room.</item>
/// </list>
/// Bytes are the encoded length of each queued frame. A <see cref="SharedFrame"/> shared by many
/// sockets is counted fully in each of them: its buffer lives until the slowest holder releases
/// it, so a frame held only by this slow socket (the others sent it long ago) costs the node its
/// full size, and a per-connection budget must not depend on what other connections do.
/// Both bounds are checked with compare-and-swap on one counter, so the queued bytes never exceed
/// <c>maxBytes</c> (except one bulk frame larger than <c>bulkBytes</c> into an empty queue, which a
/// sync must be able to send).
/// The sender prefers live frames. Each queued <see cref="SharedFrame"/> holds a reference that
/// the sender (or <see cref="Complete"/> for undelivered frames) releases.
/// </summary>
internal sealed class SendQueue
{
    private readonly Channel<SharedFrame> _live;
    private readonly Channel<SharedFrame> _bulk;

    // One wake-up signal for both queues: waiting on two channels at once would leave a
    // dangling waiter on the idle one at every wake-up.
    private readonly Channel<bool> _doorbell = Channel.CreateBounded<bool>(new BoundedChannelOptions(1)
    {
        FullMode = BoundedChannelFullMode.DropWrite,
        SingleReader = true,
    });

    // Rung at every dequeue: bulk writers waiting for bytes to drain re-check.
    private readonly Channel<bool> _room = Channel.CreateBounded<bool>(new BoundedChannelOptions(1)
    {
        FullMode = BoundedChannelFullMode.DropWrite,
    });

    private readonly long _maxBytes;
    private readonly long _bulkBytes;
    private long _queuedBytes;
    private long _peakQueuedBytes;
    private int _completed;

    public SendQueue(int capacity, int bulkCapacity, long maxBytes = long.MaxValue, long bulkBytes = long.MaxValue)
    {
        Capacity = capacity;
        _maxBytes = maxBytes;
        _bulkBytes = Math.Min(bulkBytes, maxBytes);
        _live = Channel.CreateBounded<SharedFrame>(new BoundedChannelOptions(capacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
        });
        _bulk = Channel.CreateBounded<SharedFrame>(new BoundedChannelOptions(bulkCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
        });
    }

    public int Capacity { get; }

    public int Count => _live.Reader.Count + _bulk.Reader.Count;

    /// <summary>Encoded bytes of the frames queued now.</summary>
    public long QueuedBytes => Volatile.Read(ref _queuedBytes);

    /// <summary>The most bytes this queue ever held (the slow-reader test checks it against the budget).</summary>
    public long PeakQueuedBytes => Volatile.Read(ref _peakQueuedBytes);

    public bool IsCompleted => Volatile.Read(ref _completed) != 0;

    /// <summary>Queues a live frame without waiting; takes its own reference on success.</summary>
    public EnqueueResult TryEnqueue(SharedFrame frame)
    {
        if (IsCompleted)
        {
            return EnqueueResult.Closed;
        }

        if (!TryReserve(frame.Length, _maxBytes, allowWhenEmpty: false))
        {
            return IsCompleted ? EnqueueResult.Closed : EnqueueResult.Full;
        }

        frame.AddReference();
        if (_live.Writer.TryWrite(frame))
        {
            _doorbell.Writer.TryWrite(true);
            return EnqueueResult.Enqueued;
        }

        Interlocked.Add(ref _queuedBytes, -frame.Length);
        frame.Release();
        return IsCompleted ? EnqueueResult.Closed : EnqueueResult.Full;
    }

    /// <summary>Queues a bulk frame, waiting for room; false when the connection closed meanwhile.</summary>
    public async ValueTask<bool> EnqueueBulkAsync(SharedFrame frame, CancellationToken cancellationToken)
    {
        try
        {
            while (!TryReserve(frame.Length, _bulkBytes, allowWhenEmpty: true))
            {
                if (IsCompleted || !await _room.Reader.WaitToReadAsync(cancellationToken))
                {
                    return false;
                }

                _room.Reader.TryRead(out _);
            }
        }
        catch (OperationCanceledException) when (IsCompleted)
        {
            return false;
        }

        // Pass the wake-up on: another bulk writer of this socket may be waiting too.
        _room.Writer.TryWrite(true);
        frame.AddReference();
        try
        {
            await _bulk.Writer.WriteAsync(frame, cancellationToken);
        }
        catch (Exception ex) when (ex is ChannelClosedException or OperationCanceledException)
        {
            Interlocked.Add(ref _queuedBytes, -frame.Length);
            frame.Release();
            if (ex is OperationCanceledException && !IsCompleted)
            {
                throw;
            }

            return false;
        }

        _doorbell.Writer.TryWrite(true);
        return true;
    }

    /// <summary>Takes the next frame, live first. The caller owns the returned reference.</summary>
    public bool TryDequeue(out SharedFrame frame)
    {
        if (!_live.Reader.TryRead(out frame!) && !_bulk.Reader.TryRead(out frame!))
        {
            return false;
        }

        Interlocked.Add(ref _queuedBytes, -frame.Length);
        _room.Writer.TryWrite(true);
        return true;
    }

    /// <summary>Waits until a frame may be available; false once completed and drained.</summary>
    public async ValueTask<bool> WaitToDequeueAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_live.Reader.Count > 0 || _bulk.Reader.Count > 0)
            {
                return true;
            }

            if (IsCompleted)
            {
                return false;
            }

            if (!await _doorbell.Reader.WaitToReadAsync(cancellationToken))
            {
                // Completed: one more look for frames queued just before.
                return _live.Reader.Count > 0 || _bulk.Reader.Count > 0;
            }

            _doorbell.Reader.TryRead(out _);
        }
    }

    /// <summary>No more frames are accepted; already queued ones can still be dequeued.</summary>
    public void Complete()
    {
        if (Interlocked.Exchange(ref _completed, 1) == 0)
        {
            _live.Writer.TryComplete();
            _bulk.Writer.TryComplete();
            _doorbell.Writer.TryComplete();
            _room.Writer.TryComplete();
        }
    }

    /// <summary>Adds <paramref name="length"/> to the queued bytes unless that would pass <paramref name="limit"/>.</summary>
    private bool TryReserve(int length, long limit, bool allowWhenEmpty)
    {
        var current = Volatile.Read(ref _queuedBytes);
        while (true)
        {
            var next = current + length;
            if (next > limit && !(allowWhenEmpty && current == 0))
            {
                return false;
            }

            var seen = Interlocked.CompareExchange(ref _queuedBytes, next, current);
            if (seen == current)
            {
                RaisePeak(next);
                return true;
            }

            current = seen;
        }
    }

    private void RaisePeak(long bytes)
    {
        var peak = Volatile.Read(ref _peakQueuedBytes);
        while (bytes > peak)
        {
            var seen = Interlocked.CompareExchange(ref _peakQueuedBytes, bytes, peak);
            if (seen == peak)
            {
                return;
            }

            peak = seen;
        }
    }

    /// <summary>Releases every frame still queued (the socket is gone).</summary>
    public int DropPending()
    {
        var dropped = 0;
        while (TryDequeue(out var frame))
        {
            frame.Release();
            dropped++;
        }

        return dropped;
    }
}
