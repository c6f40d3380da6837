using Messaging.Contracts.Protocol;

namespace Messaging.Bench.Load;

/// <summary>
/// Acks like a phone does: cumulative per chat, batched on a period, so each device's cursor
/// follows what it holds and a sync streams only what it lacks, as in production.
/// </summary>
public sealed class AckFlusher
{
    private readonly DeliveryTracker _tracker;
    private readonly DeviceFleet _fleet;
    private readonly int _devices;
    private readonly TimeSpan _interval;
    private readonly bool _reads;
    private long _acksSent;
    private long _readsSent;

    /// <summary>With <paramref name="reads"/> (receipts on) each ack is followed by a <c>read</c> of the same seq: the user read what arrived.</summary>
    public AckFlusher(DeliveryTracker tracker, DeviceFleet fleet, int devices, TimeSpan interval, bool reads = false)
    {
        _tracker = tracker;
        _fleet = fleet;
        _devices = devices;
        _interval = interval;
        _reads = reads;
    }

    public long AcksSent => Interlocked.Read(ref _acksSent);

    public long ReadsSent => Interlocked.Read(ref _readsSent);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_interval);
        var acks = new List<(int Chat, long Seq)>();
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                for (var device = 0; device < _devices; device++)
                {
                    Flush(device, acks);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The run is over.
        }
    }

    /// <summary>Sends what one device owes now (before it asks the server for more).</summary>
    public void Flush(int device) => Flush(device, []);

    private void Flush(int device, List<(int Chat, long Seq)> acks)
    {
        if (!_fleet.IsConnected(device))
        {
            return;
        }

        acks.Clear();
        _tracker.CollectAcks(device, acks);
        var connection = _fleet.Connection(device);
        foreach (var (chat, seq) in acks)
        {
            var chatId = _tracker.ChatId(chat);
            if (connection.TryEnqueue(new AckFrame { ChatId = chatId, Seq = seq }))
            {
                Interlocked.Increment(ref _acksSent);
            }

            if (_reads && connection.TryEnqueue(new ReadFrame { ChatId = chatId, Seq = seq }))
            {
                Interlocked.Increment(ref _readsSent);
            }
        }
    }
}
