using Confluent.Kafka;
using Messaging.Contracts.Topics;
using Messaging.Hosting;
using Messaging.Hosting.Kafka;
using Messaging.Router.Directory;
using Microsoft.Extensions.Options;

namespace Messaging.Router.Routing;

/// <summary>
/// Starts the Router in order: topics (prefixed namespaces or <c>Router:EnsureTopics</c>), a
/// co-partitioning check, the device directory caught up, then the consumer loop on its own thread.
/// </summary>
public sealed partial class RouterWorker(
    TopicProvisioner provisioner,
    KafkaClientFactory clients,
    TopicNames topics,
    IOptions<RouterOptions> options,
    IOptions<ClusterOptions> cluster,
    DeviceDirectory directory,
    RouterLoop loop,
    ILogger<RouterWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await EnsureTopicsAsync(provisioner, clients, topics, options.Value, cluster.Value, stoppingToken);
            CheckCoPartitioned();
            await directory.StartAsync(stoppingToken);
            LogStarting(logger, loop.GroupId, topics.ChatCommands);

            // Consume blocks: a dedicated thread keeps it off the thread pool.
            await Task.Factory.StartNew(() => loop.Run(stoppingToken), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Creates missing topics for a prefixed namespace or with <c>Router:EnsureTopics</c> (both Router loops call it; it is idempotent).</summary>
    internal static async Task EnsureTopicsAsync(TopicProvisioner provisioner, KafkaClientFactory clients, TopicNames topics, RouterOptions options, ClusterOptions cluster, CancellationToken cancellationToken)
    {
        if (topics.Prefix.Length > 0 || options.EnsureTopics)
        {
            await provisioner.EnsureAsync(TopicProvisioner.AllTopics(topics, clients.Options.ChatPartitions, cluster.EdgeNodes), cancellationToken);
        }
    }

    /// <summary>
    /// Events and states are written to the command's partition number, and a new owner restores a
    /// partition's chats from the same number of <c>chat.state</c>: fewer partitions there would lose
    /// chats, so refuse to start instead.
    /// </summary>
    private void CheckCoPartitioned()
    {
        using var admin = new AdminClientBuilder(clients.AdminConfig("router-check")).Build();
        var commands = PartitionCount(admin, topics.ChatCommands);
        var events = PartitionCount(admin, topics.ChatEvents);
        var state = PartitionCount(admin, topics.ChatState);
        if (events < commands || state < commands)
        {
            throw new InvalidOperationException(
                $"{topics.ChatEvents} ({events}) and {topics.ChatState} ({state}) need at least as many partitions as {topics.ChatCommands} ({commands}).");
        }
    }

    private static int PartitionCount(IAdminClient admin, string topic)
    {
        var metadata = admin.GetMetadata(topic, TimeSpan.FromSeconds(10));
        foreach (var t in metadata.Topics)
        {
            if (t.Topic == topic && t.Error.Code == ErrorCode.NoError)
            {
                return t.Partitions.Count;
            }
        }

        throw new InvalidOperationException($"Topic {topic} does not exist (provision it, or set Router:EnsureTopics=true).");
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Router starting: group {GroupId} over {Topic}, device directory caught up")]
    private static partial void LogStarting(ILogger logger, string groupId, string topic);
}
