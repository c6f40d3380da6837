using System.Diagnostics;
using Messaging.Bench.Connections;
using Messaging.Contracts.Protocol;

namespace Messaging.Bench.Load;

/// <summary>What one step's sending did: the index ranges it measured per chat and how far behind schedule it fell.</summary>
public sealed record SendOutcome(long[] MeasuredFrom, long[] MeasuredTo, long Dispatched, long MeasuredDispatched, long EnqueueFailures, TimeSpan MaxLag);

/// <summary>
/// Sends one step on an <see cref="OpenLoopSchedule"/>: message i goes out at its due time from
/// send slot i mod n, carrying its intended time; the first <c>warmupCount</c> messages are not measured.
/// </summary>
public sealed class OpenLoopSender
{
    /// <summary>
    /// The scheduler sleeps this long between bursts. Spinning for sub-millisecond precision would
    /// take a whole core from a two-core machine; sleeping costs each message at most this much
    /// extra latency, and the latency is still measured from the intended time.
    /// </summary>
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(1);

    private readonly DeliveryTracker _tracker;
    private readonly DeviceFleet _fleet;
    private readonly int _bodyBytes;

    public OpenLoopSender(DeliveryTracker tracker, DeviceFleet fleet, int bodyBytes)
    {
        _tracker = tracker;
        _fleet = fleet;
        _bodyBytes = bodyBytes;
    }

    public async Task<SendOutcome> SendAsync(
        int step,
        OpenLoopSchedule schedule,
        long warmupCount,
        long totalCount,
        IReadOnlyList<SendSlot> slots,
        CancellationToken cancellationToken)
    {
        var measuredFrom = _tracker.SnapshotNextIndices();
        long failures = 0;
        long maxLagTicks = 0;
        long index = 0;
        while (index < totalCount)
        {
            var now = Stopwatch.GetTimestamp();
            var due = Math.Min(schedule.DueCount(now), totalCount);
            for (; index < due; index++)
            {
                if (index == warmupCount)
                {
                    measuredFrom = _tracker.SnapshotNextIndices();
                }

                var intended = schedule.IntendedTimestamp(index);
                maxLagTicks = Math.Max(maxLagTicks, now - intended);
                if (!Dispatch(step, slots[(int)(index % slots.Count)], intended))
                {
                    failures++;
                }
            }

            if (index < totalCount)
            {
                await Task.Delay(Tick, cancellationToken);
            }
        }

        if (warmupCount >= totalCount)
        {
            measuredFrom = _tracker.SnapshotNextIndices();
        }

        var lag = TimeSpan.FromSeconds(maxLagTicks / (double)Stopwatch.Frequency);
        return new SendOutcome(measuredFrom, _tracker.SnapshotNextIndices(), totalCount, totalCount - Math.Min(warmupCount, totalCount), failures, lag);
    }

    /// <summary>Queues one message on the slot's connection; false when that connection is closed.</summary>
    public bool Dispatch(int step, SendSlot slot, long intendedTimestamp)
    {
        var index = _tracker.NextIndex(slot.Chat);
        var id = new BenchMessageId(step, slot.Chat, index, DeliveryTracker.ToMicros(intendedTimestamp));
        var clientMsgId = id.ToString();
        var frame = new SendMessageFrame { ChatId = _tracker.ChatId(slot.Chat), ClientMsgId = clientMsgId, Body = Body(clientMsgId, _bodyBytes) };
        return _fleet.IsConnected(slot.Device) && _fleet.Connection(slot.Device).TryEnqueue(frame);
    }

    /// <summary>The id (with its send timestamp) first, padded to the configured size.</summary>
    internal static string Body(string clientMsgId, int bodyBytes) =>
        clientMsgId.Length >= bodyBytes
            ? clientMsgId
            : string.Create(bodyBytes, clientMsgId, static (chars, id) =>
            {
                id.AsSpan().CopyTo(chars);
                chars[id.Length] = ' ';
                chars[(id.Length + 1)..].Fill('x');
            });
}
