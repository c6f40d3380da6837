using Messaging.Bench.Connections;
using Messaging.Bench.Metrics;
using Messaging.Contracts.Protocol;

namespace Messaging.Bench.Load;

/// <summary>
/// <c>offline-catchup</c>: a reconnected device asks for its pending events with <c>sync</c>, acks what it
/// got and asks again until it holds every message sent while it was away. Records per device
/// how long that took.
/// </summary>
public sealed class CatchupHandler : IServerFrameHandler
{
    /// <summary>An empty <c>sync.done</c> while messages are still owed means the projection lags: ask again after this.</summary>
    private static readonly TimeSpan RetryWhenEmpty = TimeSpan.FromMilliseconds(500);

    private const string SyncIdPrefix = "catchup-";

    private readonly DeliveryTracker _tracker;
    private readonly AckFlusher _acks;
    private readonly long[] _targets;
    private readonly int[] _completed;
    private readonly TaskCompletionSource _allDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationToken _cancellationToken;
    private long _startMicros;
    private int _remaining;
    private long _syncRequests;

    // targets: per device, the count of first arrivals at which it holds everything (long.MaxValue for devices not catching up).
    public CatchupHandler(DeliveryTracker tracker, AckFlusher acks, long[] targets, int catchingUp, CancellationToken cancellationToken)
    {
        _tracker = tracker;
        _acks = acks;
        _targets = targets;
        _completed = new int[targets.Length];
        _remaining = catchingUp;
        _cancellationToken = cancellationToken;
        if (catchingUp == 0)
        {
            _allDone.TrySetResult();
        }
    }

    /// <summary>Per-device time from the start of the reconnect to holding every message, in microseconds.</summary>
    public LatencyHistogram DrainMicros { get; } = new();

    public Task AllDone => _allDone.Task;

    public int Remaining => Volatile.Read(ref _remaining);

    public long SyncRequests => Interlocked.Read(ref _syncRequests);

    public void Start() => Volatile.Write(ref _startMicros, DeliveryTracker.NowMicros());

    public void RequestSync(EdgeConnection connection)
    {
        var request = Interlocked.Increment(ref _syncRequests);
        connection.TryEnqueue(new SyncFrame { Id = SyncIdPrefix + request.ToString(System.Globalization.CultureInfo.InvariantCulture) });
    }

    public void OnScanned(EdgeConnection connection, in ScannedServerFrame frame)
    {
        _tracker.OnScanned(connection, frame);
        var device = connection.Tag;
        if (frame.Kind == ScannedFrameKind.Message
            && _tracker.ReceivedBy(device) >= _targets[device]
            && Interlocked.Exchange(ref _completed[device], 1) == 0)
        {
            DrainMicros.Record(DeliveryTracker.NowMicros() - Volatile.Read(ref _startMicros));
            _acks.Flush(device);
            if (Interlocked.Decrement(ref _remaining) == 0)
            {
                _allDone.TrySetResult();
            }
        }
    }

    public void OnOther(EdgeConnection connection, ServerFrame frame)
    {
        if (frame is ErrorFrame { Code: ErrorCodes.Unavailable } error
            && error.Id is { } id && id.StartsWith(SyncIdPrefix, StringComparison.Ordinal)
            && Volatile.Read(ref _completed[connection.Tag]) == 0)
        {
            // A sync refused as unavailable (e.g. the database was out of connections) is retried,
            // as the protocol asks; without this the device stalled for good.
            _tracker.OnOther(connection, frame);
            _ = RetryLaterAsync(connection);
            return;
        }

        if (frame is not SyncDoneFrame done)
        {
            _tracker.OnOther(connection, frame);
            return;
        }

        if (Volatile.Read(ref _completed[connection.Tag]) == 1)
        {
            return;
        }

        // Ack first so the next page starts after what this device already holds.
        _acks.Flush(connection.Tag);
        if (done.Count > 0)
        {
            RequestSync(connection);
            return;
        }

        _ = RetryLaterAsync(connection);
    }

    private async Task RetryLaterAsync(EdgeConnection connection)
    {
        try
        {
            await Task.Delay(RetryWhenEmpty, _cancellationToken);
            RequestSync(connection);
        }
        catch (OperationCanceledException)
        {
            // The catch-up timed out or the run was stopped.
        }
    }
}
