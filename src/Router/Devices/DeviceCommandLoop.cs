using Confluent.Kafka;
using Messaging.Contracts.Topics;
using Messaging.Hosting;
using Messaging.Hosting.Kafka;
using Messaging.Hosting.Telemetry;
using Messaging.Router.Directory;
using Messaging.Router.Routing;
using Microsoft.Extensions.Options;

namespace Messaging.Router.Devices;

/// <summary>
/// The consumer loop over <c>user.commands</c>, on one dedicated thread: blocking consume, drain
/// a bounded batch, catch the <c>user.devices</c> table up to the topic's end, decide, produce,
/// wait for the broker's acks, commit exact offsets. It holds no state of its own: every Router
/// process tails the whole <c>user.devices</c> table, and the previous owner of a partition
/// committed only after its records were acknowledged, so catching up before each batch is all
/// a new owner needs (a revocation still finishes the drained batch, so it is not redone).
/// </summary>
public sealed partial class DeviceCommandLoop(
    KafkaClientFactory clients,
    TopicNames topics,
    IOptions<RouterOptions> options,
    IOptions<ClusterOptions> cluster,
    DeviceDirectory directory,
    TimeProvider clock,
    RouterMetrics metrics,
    ConsumerLag lag,
    ILogger<DeviceCommandLoop> logger)
{
    private const string ConsumerName = "router-devices";
    private readonly RouterOptions _options = options.Value;

    /// <summary>The consumer group: prefixed like the topics, so namespaces on one broker never share a group.</summary>
    public string GroupId => topics.Prefix + _options.DevicesGroupId;

    /// <summary>Runs until cancelled; a failed consumer/producer pair is rebuilt from the committed offsets.</summary>
    public void Run(CancellationToken cancellationToken) =>
        ConsumerLoops.RunRestarting(RunOnce, ex => LogLoopFailed(logger, ex), TimeSpan.FromSeconds(2), cancellationToken);

    private void RunOnce(CancellationToken cancellationToken)
    {
        var clientId = $"router-devices-{Environment.MachineName}-{Environment.ProcessId}";
        using var producer = clients.CreateProducer(clientId);
        var sink = new KafkaRecordSink(producer, new DeadLetterPublisher(producer, topics, clock), ConsumerName);
        var processor = new DeviceCommandProcessor(topics, _options.DeviceLimits(), cluster.Value.EdgeNodes, logger);
        var batch = new List<ConsumeResult<string, byte[]>>(_options.MaxBatch);

        using var consumer = new ConsumerBuilder<string, byte[]>(ConsumerLoops.GroupConfig(clients, GroupId, clientId))
            .SetPartitionsRevokedHandler((c, partitions) =>
            {
                // Finish and commit what was drained, so the next owner does not decide it again.
                Finish(c, batch, sink, processor, cancellationToken);
                LogRevoked(logger, partitions.Count);
            })
            .SetPartitionsLostHandler((_, partitions) =>
            {
                // Another member may own them already: the uncommitted batch is theirs to redo.
                batch.Clear();
                LogLost(logger, partitions.Count);
            })
            .Build();

        consumer.Subscribe(topics.UserCommands);
        var poll = TimeSpan.FromMilliseconds(_options.PollMilliseconds);
        var lagProbe = lag.For(GroupId);
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                ConsumerBatching.Drain(consumer, batch, _options.MaxBatch, poll, cancellationToken);
                lagProbe.Observe(consumer);
                Finish(consumer, batch, sink, processor, cancellationToken);
            }
        }
        finally
        {
            batch.Clear();
            ConsumerLoops.Close(consumer, ex => LogCloseFailed(logger, ex));
            lagProbe.Clear();
        }
    }

    private void Finish(IConsumer<string, byte[]> consumer, List<ConsumeResult<string, byte[]>> batch, IRecordSink sink, DeviceCommandProcessor processor, CancellationToken cancellationToken)
    {
        if (batch.Count == 0)
        {
            return;
        }

        // Never decide on a table behind the log: the previous batch's lists (or another
        // instance's, before a rebalance) would be overwritten by a decision on older ones.
        var catchUp = TimeSpan.FromMilliseconds(Math.Max(_options.DirectoryCatchUpMs, 1));
        while (!directory.CatchUpDevices(catchUp, cancellationToken))
        {
            cancellationToken.ThrowIfCancellationRequested();
            LogDirectoryBehind(logger, (int)catchUp.TotalMilliseconds);
        }

        var outcome = processor.Process(batch, directory.DeviceListOf, sink, clock.GetUtcNow(), cancellationToken);
        consumer.Commit(outcome.Offsets);
        batch.Clear();
        metrics.RecordDevices(outcome.Commands);
        LogBatch(logger, outcome.Commands, outcome.Changed, outcome.Refused, outcome.Parked);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Device command loop failed; rebuilding the consumer from committed offsets")]
    private static partial void LogLoopFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Revoked {Count} user.commands partitions after finishing the in-flight batch")]
    private static partial void LogRevoked(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lost {Count} user.commands partitions; the uncommitted batch is left to the new owner")]
    private static partial void LogLost(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "user.devices did not catch up within {Milliseconds} ms; waiting before deciding the batch")]
    private static partial void LogDirectoryBehind(ILogger logger, int milliseconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Closing the device command consumer failed")]
    private static partial void LogCloseFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Device batch: {Commands} commands, {Changed} users changed, {Refused} refused, {Parked} parked")]
    private static partial void LogBatch(ILogger logger, int commands, int changed, int refused, int parked);
}
