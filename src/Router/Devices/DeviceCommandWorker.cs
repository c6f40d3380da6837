using Messaging.Contracts.Topics;
using Messaging.Hosting;
using Messaging.Hosting.Kafka;
using Messaging.Router.Directory;
using Messaging.Router.Routing;
using Microsoft.Extensions.Options;

namespace Messaging.Router.Devices;

/// <summary>Starts the device command loop once the topics exist and <c>user.devices</c> is caught up.</summary>
public sealed partial class DeviceCommandWorker(
    TopicProvisioner provisioner,
    KafkaClientFactory clients,
    TopicNames topics,
    IOptions<RouterOptions> options,
    IOptions<ClusterOptions> cluster,
    DeviceDirectory directory,
    DeviceCommandLoop loop,
    ILogger<DeviceCommandWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await RouterWorker.EnsureTopicsAsync(provisioner, clients, topics, options.Value, cluster.Value, stoppingToken);
            await directory.StartAsync(stoppingToken);
            LogStarting(logger, loop.GroupId, topics.UserCommands);

            // Consume blocks: a dedicated thread keeps it off the thread pool.
            await Task.Factory.StartNew(() => loop.Run(stoppingToken), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Device command loop starting: group {GroupId} over {Topic}")]
    private static partial void LogStarting(ILogger logger, string groupId, string topic);
}
