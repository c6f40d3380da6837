using System.Diagnostics;
using Confluent.Kafka;
using Messaging.Contracts.Commands;
using Messaging.Contracts.Serialization;
using Messaging.Contracts.Topics;
using Messaging.Hosting.Kafka;
using Messaging.Hosting.Telemetry;
using Messaging.Router.Chats;
using Messaging.Router.Directory;

namespace Messaging.Router.Routing;

/// <summary>What one batch did (for logs, metrics and tests) and the offsets to commit.</summary>
public sealed record BatchOutcome(
    int Commands,
    int Events,
    int Deliveries,
    int Replies,
    int Parked,
    int Skipped,
    int StatesWritten,
    IReadOnlyList<TopicPartitionOffset> Offsets);

/// <summary>What one step of a flush in flight did: states it produced, and the offsets to commit (empty until its states are acknowledged).</summary>
public sealed record FlushStep(int StatesWritten, IReadOnlyList<TopicPartitionOffset> Offsets);

/// <summary>
/// Turns batches of commands into output, in the order that keeps a crash harmless:
/// (1) events to <c>chat.events</c>, one <c>EventRouted</c> per node with online recipients,
/// refusals and duplicate notices to the origin node, produced as each batch is decided (pushes
/// go out at once, nothing waits for them); then, at a <em>flush</em> (every batch, or every
/// <c>Router:StateFlushMs</c>, see <see cref="StateFlushPolicy"/>): everything produced since the
/// last flush is acknowledged, (2) the chats changed since then write one state each to
/// <c>chat.state</c>, acknowledged; (3) the caller commits the returned offsets last. A crash
/// before (2) re-decides the commands since the last flush from the older state (same seq, same
/// messageId: consumers de-duplicate); a crash between (2) and (3) finds states newer than the
/// offsets, and commands at or below a chat's <see cref="ChatState.LastCommandOffset"/> are skipped.
/// A flush either blocks (<see cref="Process(IReadOnlyList{ConsumeResult{string, byte[]}}, ChatStateStore, IRecordSink, bool, CancellationToken)"/>
/// with <c>flush</c>) or runs alongside the next batches (<see cref="BeginFlush"/>, <see cref="AdvanceFlush"/>):
/// the same three steps in the same order, without holding up the decisions in between.
/// </summary>
public sealed partial class CommandProcessor : IDisposable
{
    private readonly TopicNames _topics;
    private readonly ChatLimits _limits;
    private readonly IDeviceDirectory _directory;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly List<string>[] _byNode;
    private readonly TopicPartition[] _deliveryTopics;
    private readonly Dictionary<string, (ChatState State, int Partition)> _changed = new(StringComparer.Ordinal);
    private Dictionary<TopicPartition, long> _unflushedOffsets = [];
    private PendingFlush? _inFlight;
    private readonly DeliveryEncoder _encoder = new();
    private readonly ChatStateEncoder _stateEncoder = new();
    private readonly ChatStateEncoder _flushEncoder = new();
    private readonly bool _traceHeaders;
    private TopicPartition[] _eventPartitions = [];
    private TopicPartition[] _statePartitions = [];

    /// <summary>
    /// With <paramref name="traceHeaders"/> (<c>Kafka:TraceHeaders</c>) a traced command's events and
    /// node deliveries carry its <c>traceparent</c> as a header instead of inside the record (Kafka 0.9 has no headers).
    /// With <paramref name="deliveryPartition"/> ≥ 0 (<c>Router:DeliveryPartition</c>) every node
    /// record goes to that partition of its node topic; -1 leaves it to the partitioner (by chat id).
    /// </summary>
    public CommandProcessor(TopicNames topics, ChatLimits limits, int edgeNodes, IDeviceDirectory directory, TimeProvider clock, ILogger logger, bool traceHeaders = false, int deliveryPartition = -1)
    {
        _topics = topics;
        _traceHeaders = traceHeaders;
        _limits = limits;
        _directory = directory;
        _clock = clock;
        _logger = logger;
        _byNode = new List<string>[edgeNodes];
        _deliveryTopics = new TopicPartition[edgeNodes];
        for (var k = 0; k < edgeNodes; k++)
        {
            _byNode[k] = [];
            _deliveryTopics[k] = new TopicPartition(topics.DeliveryNode(k), deliveryPartition < 0 ? Partition.Any : new Partition(deliveryPartition));
        }
    }

    /// <summary>Commands decided (and their offsets) since the last flush: a flush has something to write and commit.</summary>
    public bool HasUnflushed => _unflushedOffsets.Count > 0;

    /// <summary>Decides a batch and flushes at once (as every batch did before <c>Router:StateFlushMs</c>).</summary>
    public BatchOutcome Process(IReadOnlyList<ConsumeResult<string, byte[]>> batch, ChatStateStore states, IRecordSink sink, CancellationToken cancellationToken) =>
        Process(batch, states, sink, flush: true, cancellationToken);

    /// <summary>
    /// Decides a batch and produces its output without waiting; with <paramref name="flush"/> also
    /// waits for every acknowledgement since the last flush, writes the changed chats' states and
    /// returns the offsets to commit (none otherwise). An empty batch with a flush only flushes.
    /// </summary>
    public BatchOutcome Process(IReadOnlyList<ConsumeResult<string, byte[]>> batch, ChatStateStore states, IRecordSink sink, bool flush, CancellationToken cancellationToken)
    {
        var now = _clock.GetUtcNow();
        int events = 0, deliveries = 0, replies = 0, parked = 0, skipped = 0;
        for (var i = 0; i < batch.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var record = batch[i];
            var partition = record.Partition.Value;
            if (!states.TryGetPartition(partition, out var chats))
            {
                // Only reachable if a revocation was not handled: never decide without the partition's state.
                throw new InvalidOperationException($"Command from partition {partition}, whose chat states are not loaded.");
            }

            var decoded = record.Message.Value is null
                ? new Decoded<ChatCommand>(DecodeStatus.Malformed, null, null, "null value")
                : Codecs.Commands.Decode(record.Message.Value);
            if (!decoded.IsOk)
            {
                LogParked(_logger, record.Partition.Value, record.Offset.Value, decoded.Status, decoded.Error);
                sink.Park(record, $"{decoded.Status}: {decoded.Error}");
                parked++;
                continue;
            }

            var command = decoded.Value!;
            // Untraced commands carry no traceparent: one null check, no span. A traced one has it in
            // a header (Kafka:TraceHeaders) or, on Kafka 0.9, in the record.
            using var activity = MessagingTelemetry.StartFrom(RouterTracing.Source, RouterTracing.Decide, ActivityKind.Consumer, TraceHeaders.Read(record.Message.Headers, command.Traceparent));
            if (!string.Equals(record.Message.Key, command.ChatId, StringComparison.Ordinal))
            {
                // The key decides the partition, and the partition decides which Router owns the chat's
                // state: a command keyed differently could fork a chat's sequence.
                sink.Park(record, $"key '{record.Message.Key}' differs from chatId '{command.ChatId}'");
                parked++;
                continue;
            }

            chats.TryGetValue(command.ChatId, out var state);
            if (state is not null && record.Offset.Value <= state.LastCommandOffset)
            {
                skipped++;
                continue;
            }

            var decision = ChatDecider.Decide(state, command, new DecideContext(_limits, _directory, now, record.Offset.Value));
            if (decision.Changed)
            {
                var changed = decision.State!;
                if (state is null)
                {
                    chats[changed.ChatId] = changed;
                }

                _changed[changed.ChatId] = (changed, partition);

                // A traced decision's events and their node records carry its span as a header (one,
                // shared: the client copies it at Produce) or, without headers, inside the event.
                var headers = activity is null ? null : TraceHeaders.Write(activity.Id, _traceHeaders);
                for (var e = 0; e < decision.Events.Count; e++)
                {
                    var evt = decision.Events[e];
                    if (activity is not null && headers is null)
                    {
                        evt = evt with { Traceparent = activity.Id };
                    }

                    var json = Codecs.Events.Encode(evt);
                    sink.Produce(EventPartition(partition), evt.ChatId, json, headers);
                    events++;
                    NodeFanOut.Group(decision.Recipients[e], _directory, now, _byNode);
                    for (var k = 0; k < _byNode.Length; k++)
                    {
                        if (_byNode[k].Count > 0)
                        {
                            sink.Produce(_deliveryTopics[k], evt.ChatId, _encoder.EventRouted(json, command.IssuedAt, _byNode[k]), headers);
                            deliveries++;
                        }
                    }
                }
            }

            if (decision.Reply is { } reply)
            {
                if ((uint)command.OriginNode < (uint)_deliveryTopics.Length)
                {
                    sink.Produce(_deliveryTopics[command.OriginNode], command.ChatId, Codecs.Deliveries.Encode(reply));
                    replies++;
                }
                else
                {
                    LogBadOriginNode(_logger, command.CommandId, command.OriginNode);
                }
            }
        }

        foreach (var offset in ConsumerBatching.CommitOffsets(batch))
        {
            if (!_unflushedOffsets.TryGetValue(offset.TopicPartition, out var next) || offset.Offset.Value > next)
            {
                _unflushedOffsets[offset.TopicPartition] = offset.Offset.Value;
            }
        }

        if (!flush)
        {
            return new BatchOutcome(batch.Count, events, deliveries, replies, parked, skipped, 0, []);
        }

        var (statesWritten, offsets) = FlushNow(sink, cancellationToken);
        return new BatchOutcome(batch.Count, events, deliveries, replies, parked, skipped, statesWritten, offsets);
    }

    /// <summary>
    /// A flush started by <see cref="BeginFlush"/> has not committed yet: its states or offsets are
    /// still waiting for acknowledgements.
    /// </summary>
    public bool FlushInFlight => _inFlight is not null;

    /// <summary>
    /// Starts a flush without waiting (<c>Router:PipelineFlush</c>): the states of the chats changed
    /// since the last flush are captured now, as they stand after the last decided batch, and
    /// encoded on the thread pool; a mark
    /// is taken after everything produced so far. <see cref="AdvanceFlush"/> writes the states once
    /// the mark is acknowledged and hands back the offsets once the states are; batches decided in
    /// between go out at once and belong to the next flush. At most one flush is in flight.
    /// </summary>
    public void BeginFlush(IRecordSink sink)
    {
        if (_inFlight is not null)
        {
            throw new InvalidOperationException("A flush is already in flight.");
        }

        // Captured here, encoded on the thread pool: encoding every changed chat took ~23 ms per
        // flush on the loop thread at 2,000 sends/s (docs/benchmarks.md, "fifth session").
        var captured = CaptureChanged();
        var encoder = _flushEncoder;
        var encoding = Task.Run(() => Encode(captured, encoder));
        _inFlight = new PendingFlush(sink.Mark(), encoding, _unflushedOffsets);
        _unflushedOffsets = [];
    }

    /// <summary>Waits until the flush in flight has encoded its states (tests: <see cref="AdvanceFlush"/> never waits for it).</summary>
    internal void WaitForFlushEncoded() => _inFlight?.Encoding.Wait();

    /// <summary>
    /// Moves the flush in flight on without blocking: produces its states once everything before
    /// its mark is acknowledged and they are encoded, and returns the offsets to commit (and clears
    /// the flush) once the states are acknowledged too. Null while there is nothing to do yet.
    /// Throws if a record failed.
    /// </summary>
    public FlushStep? AdvanceFlush(IRecordSink sink)
    {
        var flushing = _inFlight;
        if (flushing is null || !sink.IsAcknowledged(flushing.Mark) || !flushing.Encoding.IsCompleted)
        {
            return null;
        }

        var written = 0;
        if (!flushing.StatesProduced)
        {
            // (2) Only now: every event and node record decided before the flush began is durable.
            written = ProduceStates(sink, flushing);
            flushing.StatesProduced = true;
            flushing.Mark = sink.Mark();
            if (!sink.IsAcknowledged(flushing.Mark))
            {
                return new FlushStep(written, []);
            }
        }

        // (3) The caller commits these last.
        _inFlight = null;
        return new FlushStep(written, ToOffsets(flushing.Offsets));
    }

    /// <summary>
    /// Finishes the flush in flight, if any, and flushes everything decided since, blocking:
    /// (1) every record produced so far acknowledged, (2) the states written and acknowledged,
    /// (3) the offsets of both returned (the highest per partition).
    /// </summary>
    private (int StatesWritten, List<TopicPartitionOffset> Offsets) FlushNow(IRecordSink sink, CancellationToken cancellationToken)
    {
        // (1) Everything a client or read model can see is durable before the state claims it happened.
        sink.WaitForAcks(cancellationToken);

        // (2) One snapshot per changed chat per flush, however many commands and batches it took:
        // measured 2026-11-25, a snapshot per batch wrote 1.1 GB to chat.state against 0.3 GB of
        // deliveries in minutes at 1,000 sends/s (each holds up to Router:RecentClientMsgIds ids).
        // The older states of a flush in flight go first: a chat in both ends with the newer one.
        var statesWritten = 0;
        var offsets = _unflushedOffsets;
        if (_inFlight is { } flushing)
        {
            if (!flushing.StatesProduced)
            {
                statesWritten += ProduceStates(sink, flushing);
            }

            foreach (var (tp, next) in _unflushedOffsets)
            {
                if (!flushing.Offsets.TryGetValue(tp, out var earlier) || next > earlier)
                {
                    flushing.Offsets[tp] = next;
                }
            }

            offsets = flushing.Offsets;
            _inFlight = null;
        }

        statesWritten += ProduceStates(sink, Encode(CaptureChanged(), _stateEncoder), dropped: null);
        sink.WaitForAcks(cancellationToken);

        // (3) The caller commits these last.
        var result = ToOffsets(offsets);
        _unflushedOffsets = [];
        return (statesWritten, result);
    }

    /// <summary>The changed chats' states as they stand now, copied (the decider mutates states in place); forgets the changes.</summary>
    private List<(int Partition, string ChatId, ChatStateCopy State)> CaptureChanged()
    {
        var captured = new List<(int Partition, string ChatId, ChatStateCopy State)>(_changed.Count);
        foreach (var (chatId, (state, partition)) in _changed)
        {
            captured.Add((partition, chatId, ChatStateEncoder.Capture(state)));
        }

        _changed.Clear();
        return captured;
    }

    private static List<EncodedState> Encode(List<(int Partition, string ChatId, ChatStateCopy State)> captured, ChatStateEncoder encoder)
    {
        var encoded = new List<EncodedState>(captured.Count);
        foreach (var (partition, chatId, state) in captured)
        {
            encoded.Add(new EncodedState(partition, chatId, encoder.Encode(state)));
        }

        return encoded;
    }

    /// <summary>The states of a flush in flight (waiting for their encoding if need be), but those of partitions lost since it began.</summary>
    private int ProduceStates(IRecordSink sink, PendingFlush flushing) =>
        ProduceStates(sink, flushing.Encoding.GetAwaiter().GetResult(), flushing.Dropped);

    private int ProduceStates(IRecordSink sink, List<EncodedState> states, HashSet<int>? dropped)
    {
        var written = 0;
        foreach (var state in states)
        {
            if (dropped is null || !dropped.Contains(state.Partition))
            {
                sink.Produce(StatePartition(state.Partition), state.ChatId, state.Bytes);
                written++;
            }
        }

        return written;
    }

    private static List<TopicPartitionOffset> ToOffsets(Dictionary<TopicPartition, long> offsets)
    {
        var result = new List<TopicPartitionOffset>(offsets.Count);
        foreach (var (tp, next) in offsets)
        {
            result.Add(new TopicPartitionOffset(tp, new Offset(next)));
        }

        return result;
    }

    /// <summary>
    /// Forgets what was decided but not flushed for a partition this instance lost: its new owner
    /// re-decides those commands from the committed offsets and the last written states.
    /// </summary>
    public void Drop(int partition)
    {
        foreach (var tp in _unflushedOffsets.Keys.Where(tp => tp.Partition.Value == partition).ToList())
        {
            _unflushedOffsets.Remove(tp);
        }

        foreach (var chatId in _changed.Where(c => c.Value.Partition == partition).Select(c => c.Key).ToList())
        {
            _changed.Remove(chatId);
        }

        if (_inFlight is { } flushing)
        {
            // Its states, if not written yet, would land after the new owner restored; its offsets are not ours to commit.
            if (!flushing.StatesProduced)
            {
                flushing.Dropped.Add(partition);
            }

            foreach (var tp in flushing.Offsets.Keys.Where(tp => tp.Partition.Value == partition).ToList())
            {
                flushing.Offsets.Remove(tp);
            }
        }
    }

    /// <summary>
    /// Events and states go to the same partition number as the command, not through the
    /// partitioner: a snapshot must sit where the partition's next owner restores from, whatever
    /// partitioner the command's producer used.
    /// </summary>
    private TopicPartition EventPartition(int partition) => Cached(ref _eventPartitions, _topics.ChatEvents, partition);

    private TopicPartition StatePartition(int partition) => Cached(ref _statePartitions, _topics.ChatState, partition);

    private static TopicPartition Cached(ref TopicPartition[] cache, string topic, int partition)
    {
        if (partition >= cache.Length)
        {
            var grown = new TopicPartition[partition + 1];
            cache.CopyTo(grown, 0);
            cache = grown;
        }

        return cache[partition] ??= new TopicPartition(topic, partition);
    }

    public void Dispose()
    {
        // A flush's encoding may still be running on the thread pool with the encoder it uses.
        try
        {
            _inFlight?.Encoding.Wait();
        }
        catch (AggregateException)
        {
            // Already reported: it failed the loop that is being disposed.
        }

        _encoder.Dispose();
        _stateEncoder.Dispose();
        _flushEncoder.Dispose();
    }

    /// <summary>A chat's state encoded at the start of a flush, for its command partition's <c>chat.state</c> partition.</summary>
    private sealed record EncodedState(int Partition, string ChatId, byte[] Bytes);

    /// <summary>A flush begun and not committed: the mark it waits for, its states (written once the mark is acknowledged) and its offsets.</summary>
    private sealed class PendingFlush(AckMark mark, Task<List<EncodedState>> encoding, Dictionary<TopicPartition, long> offsets)
    {
        public AckMark Mark { get; set; } = mark;

        /// <summary>The states captured when the flush began, being encoded on the thread pool.</summary>
        public Task<List<EncodedState>> Encoding { get; } = encoding;

        /// <summary>Partitions lost since the flush began: their states are not written.</summary>
        public HashSet<int> Dropped { get; } = [];

        public Dictionary<TopicPartition, long> Offsets { get; } = offsets;

        public bool StatesProduced { get; set; }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Parked command at partition {Partition} offset {Offset}: {Status} {Error}")]
    private static partial void LogParked(ILogger logger, int partition, long offset, DecodeStatus status, string? error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Command {CommandId} names origin node {OriginNode}, which does not exist: its reply is dropped")]
    private static partial void LogBadOriginNode(ILogger logger, string commandId, int originNode);
}
