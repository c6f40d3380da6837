using System.Collections.Concurrent;
using System.Diagnostics;
using Messaging.Bench.Connections;
using Messaging.Bench.Metrics;
using Messaging.Contracts.Protocol;

namespace Messaging.Bench.Load;

/// <summary>
/// Counts what every device receives: first arrivals by (chat, index) per member device, so a
/// second arrival is a duplicate and an accepted message some member never got is missing;
/// latency of measured messages from the intended send time they carry; the highest seq per
/// (device, chat) for cumulative acks. Called concurrently from every receive loop.
/// </summary>
public sealed class DeliveryTracker : IServerFrameHandler
{
    /// <summary>Step 0 is the readiness probe; rate steps are 1..n.</summary>
    public const int MaxSteps = 64;

    private const int RecentErrorsKept = 5;

    private static readonly long Epoch = Stopwatch.GetTimestamp();

    /// <summary>
    /// The wall clock at <see cref="Epoch"/>, to place the monotonic send times beside the servers'
    /// UTC hop timestamps (one machine, one clock: the bench runs beside the services it measures).
    /// </summary>
    private static readonly long EpochUtcTicks = DateTime.UtcNow.Ticks;

    private readonly LoadPlan _plan;
    private readonly ChatTrack[] _chats;
    private readonly DeviceTrack[] _devices;
    private readonly LatencyHistogram[] _latencyMicros = new LatencyHistogram[MaxSteps];
    private readonly LatencyHistogram[][] _hopMicros = new LatencyHistogram[MaxSteps][];
    private readonly long[] _duplicatesByStep = new long[MaxSteps];
    private readonly long[] _measuredDeliveriesByStep = new long[MaxSteps];
    private readonly ConcurrentQueue<string> _recentErrors = new();
    private long _delivered;
    private long _accepted;
    private long _sendErrors;
    private long _foreign;
    private MeasureWindow _window = new(-1, 0, 0);

    public DeliveryTracker(LoadPlan plan, long messagesPerChatCapacity)
    {
        _plan = plan;
        _chats = new ChatTrack[plan.Chats.Count];
        for (var c = 0; c < _chats.Length; c++)
        {
            _chats[c] = new ChatTrack(plan.Chats[c].Members.Count, messagesPerChatCapacity);
        }

        _devices = new DeviceTrack[plan.Devices.Count];
        for (var d = 0; d < _devices.Length; d++)
        {
            _devices[d] = new DeviceTrack(plan.Memberships[d].Length);
        }

        for (var s = 0; s < MaxSteps; s++)
        {
            _latencyMicros[s] = new LatencyHistogram();
            _hopMicros[s] = new LatencyHistogram[Hops.Names.Count];
            for (var h = 0; h < Hops.Names.Count; h++)
            {
                _hopMicros[s][h] = new LatencyHistogram();
            }
        }
    }

    /// <summary>Distinct deliveries so far (first arrival of a message at a member device).</summary>
    public long Delivered => Interlocked.Read(ref _delivered);

    public long Accepted => Interlocked.Read(ref _accepted);

    public long SendErrors => Interlocked.Read(ref _sendErrors);

    /// <summary>Messages that did not carry a generator id or reached a device outside the chat.</summary>
    public long Foreign => Interlocked.Read(ref _foreign);

    public IReadOnlyCollection<string> RecentErrors => _recentErrors;

    /// <summary>Microseconds on the generator's monotonic clock: the unit of every timestamp it sends.</summary>
    public static long NowMicros() => ToMicros(Stopwatch.GetTimestamp());

    public static long ToMicros(long stopwatchTimestamp) =>
        (long)((stopwatchTimestamp - Epoch) * (1_000_000.0 / Stopwatch.Frequency));

    public string ChatId(int chat) => _chats[chat].ChatId ?? throw new InvalidOperationException($"Chat {chat} was not created.");

    public void SetChatId(int chat, string chatId) => _chats[chat].ChatId = chatId;

    /// <summary>Next index of a chat; only the scheduler calls this, one thread at a time.</summary>
    public long NextIndex(int chat) => _chats[chat].NextIndex++;

    public long PeekNextIndex(int chat) => _chats[chat].NextIndex;

    /// <summary>Messages of <paramref name="step"/> intended in [start, end) microseconds are measured.</summary>
    public void SetWindow(int step, long startMicros, long endMicros) =>
        Volatile.Write(ref _window, new MeasureWindow(step, startMicros, endMicros));

    public LatencyHistogram Latency(int step) => _latencyMicros[step];

    /// <summary>Per hop (<see cref="Hops.Names"/> order) of the step's measured deliveries that carried hop timestamps.</summary>
    public IReadOnlyList<LatencyHistogram> HopLatency(int step) => _hopMicros[step];

    public long Duplicates(int step) => Interlocked.Read(ref _duplicatesByStep[step]);

    public long MeasuredDeliveries(int step) => Interlocked.Read(ref _measuredDeliveriesByStep[step]);

    public void OnScanned(EdgeConnection connection, in ScannedServerFrame frame) => Record(connection.Tag, frame);

    /// <summary>Counts a <c>message</c>, <c>message.accepted</c> or <c>receipt</c> that <paramref name="deviceIndex"/> received.</summary>
    internal void Record(int deviceIndex, in ScannedServerFrame frame)
    {
        if (frame.Kind == ScannedFrameKind.Receipt)
        {
            Interlocked.Increment(ref _receiptFrames);
            Interlocked.Add(ref _receiptBytes, frame.Utf8.Length);
            return;
        }

        if (!frame.HasBenchId || (uint)frame.BenchId.Chat >= (uint)_chats.Length || (uint)frame.BenchId.Step >= MaxSteps)
        {
            Interlocked.Increment(ref _foreign);
            return;
        }

        var id = frame.BenchId;
        var chat = _chats[id.Chat];
        if (frame.Kind == ScannedFrameKind.MessageAccepted)
        {
            if (chat.Accepted.TrySet(id.Index))
            {
                Interlocked.Increment(ref _accepted);
            }

            return;
        }

        var now = NowMicros();
        var device = _devices[deviceIndex];
        var membership = MembershipOf(deviceIndex, id.Chat);
        if (membership < 0)
        {
            Interlocked.Increment(ref _foreign);
            return;
        }

        if (frame.Seq > device.HighestSeq[membership])
        {
            Volatile.Write(ref device.HighestSeq[membership], frame.Seq);
        }

        var slot = _plan.Memberships[deviceIndex][membership].Slot;
        if (!chat.Received[slot].TrySet(id.Index))
        {
            Interlocked.Increment(ref _duplicatesByStep[id.Step]);
            return;
        }

        Interlocked.Increment(ref _delivered);
        Interlocked.Increment(ref device.Received);
        var window = Volatile.Read(ref _window);
        if (id.Step == window.Step && id.IntendedMicros >= window.StartMicros && id.IntendedMicros < window.EndMicros)
        {
            _latencyMicros[id.Step].Record(now - id.IntendedMicros);
            Interlocked.Increment(ref _measuredDeliveriesByStep[id.Step]);
            if (frame.Hops.IsComplete)
            {
                RecordHops(_hopMicros[id.Step], frame.Hops, EpochUtcTicks + (id.IntendedMicros * TimeSpan.TicksPerMicrosecond), DateTime.UtcNow.Ticks);
            }
        }
    }

    /// <summary>Each hop between consecutive timestamps; a negative one (clock reads on different cores) counts as 0.</summary>
    private static void RecordHops(LatencyHistogram[] hops, HopTimestamps at, long sentTicks, long receivedTicks)
    {
        hops[Hops.ClientToEdge].Record(Micros(at.AcceptedAtTicks - sentTicks));
        hops[Hops.EdgeToRouter].Record(Micros(at.DecidedAtTicks - at.AcceptedAtTicks));
        hops[Hops.RouterToEdge].Record(Micros(at.PushedAtTicks - at.DecidedAtTicks));
        hops[Hops.EdgeToClient].Record(Micros(receivedTicks - at.PushedAtTicks));
    }

    private static long Micros(long ticks) => Math.Max(0, ticks / TimeSpan.TicksPerMicrosecond);

    /// <summary><c>receipt</c> frames the senders' devices received (delivered receipts come with receipts off too).</summary>
    public long ReceiptFrames => Interlocked.Read(ref _receiptFrames);

    /// <summary>The encoded bytes of the <c>receipt</c> frames counted in <see cref="ReceiptFrames"/> by the scan (decoded ones are not sized).</summary>
    public long ReceiptBytes => Interlocked.Read(ref _receiptBytes);

    public void OnOther(EdgeConnection connection, ServerFrame frame)
    {
        if (frame is ReceiptFrame)
        {
            Interlocked.Increment(ref _receiptFrames);
            return;
        }

        if (frame is ErrorFrame error)
        {
            Interlocked.Increment(ref _sendErrors);
            _recentErrors.Enqueue($"{connection.DeviceId}: {error.Code} {error.Message}");
            while (_recentErrors.Count > RecentErrorsKept && _recentErrors.TryDequeue(out _))
            {
            }
        }
    }

    private long _receiptFrames;
    private long _receiptBytes;

    /// <summary>Messages a device holds (first arrivals) across its chats.</summary>
    public long ReceivedBy(int device) => Interlocked.Read(ref _devices[device].Received);

    /// <summary>Acks each device owes: (chat index, highest seq) since the last call, marked as sent.</summary>
    public void CollectAcks(int device, List<(int Chat, long Seq)> into)
    {
        var track = _devices[device];
        for (var m = 0; m < track.HighestSeq.Length; m++)
        {
            var highest = Volatile.Read(ref track.HighestSeq[m]);
            if (highest > track.AckedSeq[m])
            {
                track.AckedSeq[m] = highest;
                into.Add((_plan.Memberships[device][m].Chat, highest));
            }
        }
    }

    /// <summary>
    /// Deliveries owed and missing for messages [from, to) of each chat: a message counts once the
    /// server accepted it, for every member device of its chat.
    /// </summary>
    public (long Expected, long Missing, long AcceptedMessages) Reconcile(long[] fromIndex, long[] toIndex)
    {
        long expected = 0;
        long missing = 0;
        long acceptedMessages = 0;
        for (var c = 0; c < _chats.Length; c++)
        {
            var chat = _chats[c];
            for (var index = fromIndex[c]; index < toIndex[c]; index++)
            {
                if (!chat.Accepted.Contains(index))
                {
                    continue;
                }

                acceptedMessages++;
                foreach (var received in chat.Received)
                {
                    expected++;
                    if (!received.Contains(index))
                    {
                        missing++;
                    }
                }
            }
        }

        return (expected, missing, acceptedMessages);
    }

    /// <summary>Messages a device should hold: accepted messages [from, to) of its chats.</summary>
    public long ExpectedFor(int device, long[] fromIndex, long[] toIndex)
    {
        long expected = 0;
        foreach (var (chat, _) in _plan.Memberships[device])
        {
            for (var index = fromIndex[chat]; index < toIndex[chat]; index++)
            {
                if (_chats[chat].Accepted.Contains(index))
                {
                    expected++;
                }
            }
        }

        return expected;
    }

    public long[] SnapshotNextIndices()
    {
        var indices = new long[_chats.Length];
        for (var c = 0; c < _chats.Length; c++)
        {
            indices[c] = _chats[c].NextIndex;
        }

        return indices;
    }

    private int MembershipOf(int device, int chat)
    {
        var memberships = _plan.Memberships[device];
        for (var m = 0; m < memberships.Length; m++)
        {
            if (memberships[m].Chat == chat)
            {
                return m;
            }
        }

        return -1;
    }

    private sealed record MeasureWindow(int Step, long StartMicros, long EndMicros);

    private sealed class ChatTrack
    {
        public ChatTrack(int members, long capacity)
        {
            Accepted = new ConcurrentBitSet(capacity);
            Received = new ConcurrentBitSet[members];
            for (var m = 0; m < members; m++)
            {
                Received[m] = new ConcurrentBitSet(capacity);
            }
        }

        public string? ChatId { get; set; }

        public long NextIndex { get; set; }

        public ConcurrentBitSet Accepted { get; }

        public ConcurrentBitSet[] Received { get; }
    }

    private sealed class DeviceTrack
    {
        public DeviceTrack(int memberships)
        {
            HighestSeq = new long[memberships];
            AckedSeq = new long[memberships];
        }

        public long[] HighestSeq { get; }

        /// <summary>Only the ack flusher touches this.</summary>
        public long[] AckedSeq { get; }

        public long Received;
    }
}
