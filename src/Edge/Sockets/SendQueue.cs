using System.Threading.Channels;

namespace Messaging.Edge.Sockets;

public enum EnqueueResult
{
    Enqueued,

    /// <summary>The live queue is full: the client does not read fast enough and must be disconnected.</summary>
    Full,

    /// <summary>The connection is closing: the frame is dropped (the inbox still has it).</summary>
    Closed,
}

/// <summary>
/// The outbound queues of one connection, and the backpressure policy:
/// <list type="bullet">
/// <item>live frames (pushes, replies) never wait: <see cref="TryEnqueue"/> fails with
/// <see cref="EnqueueResult.Full"/> when <c>capacity</c> frames are pending, and the caller
/// closes the socket (4003). A slow client cannot make the node buffer without bound or stall
/// the delivery consumer that feeds every other socket.</item>
/// <item>bulk frames (sync) wait for room (<see cref="EnqueueBulkAsync"/>) in a separate queue,
/// so a large backlog is paced by the client's reading and never crowds out live frames.</item>
/// </list>
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

    private int _completed;

    public SendQueue(int capacity, int bulkCapacity)
    {
        Capacity = capacity;
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

    public bool IsCompleted => Volatile.Read(ref _completed) != 0;

    /// <summary>Queues a live frame without waiting; takes its own reference on success.</summary>
    public EnqueueResult TryEnqueue(SharedFrame frame)
    {
        if (IsCompleted)
        {
            return EnqueueResult.Closed;
        }

        frame.AddReference();
        if (_live.Writer.TryWrite(frame))
        {
            _doorbell.Writer.TryWrite(true);
            return EnqueueResult.Enqueued;
        }

        frame.Release();
        return IsCompleted ? EnqueueResult.Closed : EnqueueResult.Full;
    }

    /// <summary>Queues a bulk frame, waiting for room; false when the connection closed meanwhile.</summary>
    public async ValueTask<bool> EnqueueBulkAsync(SharedFrame frame, CancellationToken cancellationToken)
    {
        frame.AddReference();
        try
        {
            await _bulk.Writer.WriteAsync(frame, cancellationToken);
        }
        catch (Exception ex) when (ex is ChannelClosedException or OperationCanceledException)
        {
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
    public bool TryDequeue(out SharedFrame frame) =>
        _live.Reader.TryRead(out frame!) || _bulk.Reader.TryRead(out frame!);

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
