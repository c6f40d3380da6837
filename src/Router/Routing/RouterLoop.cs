using Confluent.Kafka;
using Messaging.Contracts.Topics;
using Messaging.Hosting;
using Messaging.Hosting.Kafka;
using Messaging.Hosting.Telemetry;
using Messaging.Router.Chats;
using Messaging.Router.Directory;
using Microsoft.Extensions.Options;

namespace Messaging.Router.Routing;

/// <summary>
/// The consumer loop over <c>chat.commands</c>, run on one dedicated thread: blocking consume,
/// drain a bounded batch, process it, commit. Rebalance callbacks run on the same thread (inside
/// Consume), so a revocation can finish the half-drained batch and commit before the partitions
/// move, and an assignment restores the partitions' chat states before any of their commands is
/// decided.
/// </summary>
public sealed partial class RouterLoop(
    KafkaClientFactory clients,
    TopicNames topics,
    IOptions<RouterOptions> options,
    IOptions<ChatOptions> chat,
    IOptions<ClusterOptions> cluster,
    IDeviceDirectory directory,
    TimeProvider clock,
    RouterMetrics metrics,
    ConsumerLag lag,
    ILogger<RouterLoop> logger)
{
    private const string ConsumerName = "router";
    private readonly RouterOptions _options = options.Value;
    private volatile int[] _assigned = [];
    private long _lastFlush;

    /// <summary>The <c>chat.commands</c> partitions this instance owns right now.</summary>
    public IReadOnlyList<int> AssignedPartitions => _assigned;

    /// <summary>The consumer group: prefixed like the topics, so namespaces on one broker never share a group.</summary>
    public string GroupId => topics.Prefix + _options.GroupId;

    /// <summary>Runs until cancelled; a failed consumer/producer pair is rebuilt from the committed offsets and <c>chat.state</c>.</summary>
    // Each round reloads states from chat.state, so in-memory state that may be ahead of the log is never reused.
    public void Run(CancellationToken cancellationToken) =>
        ConsumerLoops.RunRestarting(RunOnce, ex => LogLoopFailed(logger, ex), TimeSpan.FromSeconds(2), cancellationToken);

    private void RunOnce(CancellationToken cancellationToken)
    {
        var clientId = $"router-{Environment.MachineName}-{Environment.ProcessId}";
        using var producer = clients.CreateProducer(clientId);
        using var pushes = _options.PushProducer ? clients.CreateProducer($"{clientId}-pushes") : null;
        var sink = new KafkaRecordSink(producer, new DeadLetterPublisher(producer, topics, clock), ConsumerName, pushes, NodeTopics(topics, cluster.Value.EdgeNodes));
        using var processor = new CommandProcessor(topics, chat.Value.Apply(_options.Limits()), cluster.Value.EdgeNodes, directory, clock, logger, clients.Options.TraceHeaders, _options.DeliveryPartition);
        var restorer = new ChatStateRestorer(clients, topics, _options.RecentClientMsgIds, _options.RebuildStateFromEvents);
        var rebuilder = new ChatStateRebuilder(clients, topics, _options.RecentClientMsgIds);
        var states = new ChatStateStore();
        var batch = new List<ConsumeResult<string, byte[]>>(_options.MaxBatch);

        // Stop takes no new commands; what is in hand is decided, flushed and committed under this token.
        using var drain = new DrainDeadline(TimeSpan.FromMilliseconds(_options.DrainTimeoutMs), cancellationToken);
        var work = drain.Token;

        using var consumer = new ConsumerBuilder<string, byte[]>(ConsumerLoops.GroupConfig(clients, GroupId, clientId))
            .SetPartitionsAssignedHandler((_, partitions) =>
            {
                var numbers = new List<int>(partitions.Count);
                foreach (var tp in partitions)
                {
                    numbers.Add(tp.Partition.Value);
                }

                var started = clock.GetTimestamp();
                var restored = restorer.Restore(numbers, cancellationToken);
                foreach (var (partition, chats) in restored.Chats)
                {
                    states.Load(partition, chats);
                }

                foreach (var partition in restored.ToRebuild)
                {
                    Rebuild(rebuilder, sink, states, partition, cancellationToken);
                }

                foreach (var partition in restored.ToMark)
                {
                    rebuilder.Mark(sink, partition, cancellationToken);
                }

                _assigned = [.. states.Partitions];
                var elapsed = clock.GetElapsedTime(started);
                LogAssigned(logger, numbers.Count, states.ChatCount, elapsed);
            })
            .SetPartitionsRevokedHandler((c, partitions) =>
            {
                // Finish what was drained from these partitions and flush it, so the next owner neither
                // re-decides it nor starts from states older than our last decision.
                Finish(c, batch, states, sink, processor, revoking: true, work);
                foreach (var tp in partitions)
                {
                    states.Drop(tp.Partition.Value);
                }

                _assigned = [.. states.Partitions];
                LogRevoked(logger, partitions.Count);
            })
            .SetPartitionsLostHandler((_, partitions) =>
            {
                // Another member may own them already: committing would fail and the batch is theirs to redo.
                batch.Clear();
                foreach (var tp in partitions)
                {
                    states.Drop(tp.Partition.Value);
                    processor.Drop(tp.Partition.Value);
                }

                _assigned = [.. states.Partitions];
                LogLost(logger, partitions.Count);
            })
            .Build();

        consumer.Subscribe(topics.ChatCommands);
        _lastFlush = clock.GetTimestamp();
        var poll = TimeSpan.FromMilliseconds(_options.PollMilliseconds);
        var inFlightPoll = TimeSpan.FromMilliseconds(_options.InFlightPollMs);
        var linger = TimeSpan.FromMilliseconds(_options.BatchLingerMs);
        var lagProbe = lag.For(GroupId);
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                // While a flush is in flight an idle loop looks in more often, so its commit follows its acks.
                ConsumerBatching.Drain(consumer, batch, _options.MaxBatch, processor.FlushInFlight ? inFlightPoll : poll, cancellationToken, linger);
                lagProbe.Observe(consumer);
                Finish(consumer, batch, states, sink, processor, revoking: false, work);
            }

            // Stopping (SIGTERM): flush and commit everything decided, so the next owner neither
            // decides it again nor appends its events a second time.
            var stopping = clock.GetTimestamp();
            var unflushed = batch.Count;
            Finish(consumer, batch, states, sink, processor, revoking: true, work);
            var elapsed = clock.GetElapsedTime(stopping);
            LogDrained(logger, unflushed, elapsed);
        }
        finally
        {
            // An unfinished batch or unflushed work is never committed: whoever owns the partitions next redoes it.
            batch.Clear();
            ConsumerLoops.Close(consumer, ex => LogCloseFailed(logger, ex));

            states.Clear();
            _assigned = [];
            lagProbe.Clear();
        }
    }

    private static HashSet<string> NodeTopics(TopicNames topics, int edgeNodes)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var k = 0; k < edgeNodes; k++)
        {
            names.Add(topics.DeliveryNode(k));
        }

        return names;
    }

    /// <summary>A partition whose <c>chat.state</c> was lost: its chats folded from <c>chat.events</c>, written back, then loaded.</summary>
    private void Rebuild(ChatStateRebuilder rebuilder, IRecordSink sink, ChatStateStore states, int partition, CancellationToken cancellationToken)
    {
        var started = clock.GetTimestamp();
        var (chats, events, undecodable) = rebuilder.Fold(partition, cancellationToken);
        rebuilder.Write(sink, partition, chats, cancellationToken);
        states.Load(partition, chats);
        LogRebuilt(logger, partition, chats.Count, events, undecodable, clock.GetElapsedTime(started));
    }

    private void Finish(IConsumer<string, byte[]> consumer, List<ConsumeResult<string, byte[]>> batch, ChatStateStore states, IRecordSink sink, CommandProcessor processor, bool revoking, CancellationToken cancellationToken)
    {
        var action = StateFlushPolicy.Next(revoking, processor.HasUnflushed, batch.Count > 0, processor.FlushInFlight, clock.GetElapsedTime(_lastFlush), TimeSpan.FromMilliseconds(_options.StateFlushMs), _options.PipelineFlush);
        if (batch.Count == 0 && action == FlushAction.None)
        {
            return;
        }

        // Never decide on a directory that is behind the log: a device registered just before the
        // send would get no live push (only its next sync would bring the message). Under heavy
        // load a catch-up took over 2 s in the full test run; waiting longer is safe, the commands
        // are durable and wait in Kafka.
        while (batch.Count > 0 && _options.DirectoryCatchUpMs > 0 && !directory.CatchUp(TimeSpan.FromMilliseconds(_options.DirectoryCatchUpMs), cancellationToken))
        {
            cancellationToken.ThrowIfCancellationRequested();
            LogDirectoryBehind(logger, _options.DirectoryCatchUpMs);
        }

        var started = clock.GetTimestamp();
        var outcome = processor.Process(batch, states, sink, action == FlushAction.Blocking, cancellationToken);
        var statesWritten = outcome.StatesWritten;
        IReadOnlyList<TopicPartitionOffset> offsets = outcome.Offsets;
        if (action is FlushAction.Advance or FlushAction.Begin)
        {
            // A flush alongside the batches: each step is taken once what it waits for is acknowledged.
            if (action == FlushAction.Begin)
            {
                processor.BeginFlush(sink);
            }

            if (processor.AdvanceFlush(sink) is { } step)
            {
                statesWritten += step.StatesWritten;
                offsets = step.Offsets;
            }

            // The interval runs from a flush's end, as it did when flushes blocked: counted from
            // its start, flushes came more often and wrote more chat.state (every changed chat's
            // whole snapshot, up to ~150 KB each in the bench).
            if (!processor.FlushInFlight)
            {
                _lastFlush = clock.GetTimestamp();
            }
        }

        var elapsed = clock.GetElapsedTime(started);
        if (offsets.Count > 0)
        {
            consumer.Commit(offsets);
        }

        if (action == FlushAction.Blocking)
        {
            _lastFlush = clock.GetTimestamp();
        }

        batch.Clear();
        metrics.Record(outcome, elapsed);
        LogBatch(logger, outcome.Commands, outcome.Events, outcome.Deliveries, outcome.Replies, outcome.Parked, outcome.Skipped, statesWritten);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Router loop failed; rebuilding the consumer from committed offsets and chat.state")]
    private static partial void LogLoopFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Assigned {Count} partitions: restored, {Chats} chats held, in {Elapsed}")]
    private static partial void LogAssigned(ILogger logger, int count, int chats, TimeSpan elapsed);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Partition {Partition}: chat.state was empty or incomplete; rebuilt {Chats} chats from {Events} chat.events records ({Undecodable} undecodable) and wrote them back in {Elapsed}")]
    private static partial void LogRebuilt(ILogger logger, int partition, int chats, long events, int undecodable, TimeSpan elapsed);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopping: the last batch ({Commands} commands) decided, states flushed and offsets committed in {Elapsed}")]
    private static partial void LogDrained(ILogger logger, int commands, TimeSpan elapsed);

    [LoggerMessage(Level = LogLevel.Information, Message = "Revoked {Count} partitions after finishing the in-flight batch")]
    private static partial void LogRevoked(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lost {Count} partitions; the uncommitted batch is left to the new owner")]
    private static partial void LogLost(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Device directory did not catch up within {Milliseconds} ms; waiting before deciding the batch")]
    private static partial void LogDirectoryBehind(ILogger logger, int milliseconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Closing the consumer failed")]
    private static partial void LogCloseFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Batch: {Commands} commands, {Events} events, {Deliveries} deliveries, {Replies} replies, {Parked} parked, {Skipped} skipped, {States} states")]
    private static partial void LogBatch(ILogger logger, int commands, int events, int deliveries, int replies, int parked, int skipped, int states);
}
