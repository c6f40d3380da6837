using Messaging.Contracts.Topics;
using Messaging.Hosting;
using Messaging.Hosting.Kafka;
using Microsoft.Extensions.Options;

namespace Messaging.Edge;

/// <summary>
/// Creates missing topics before anything reads them, when running in a prefixed namespace
/// (tests, ad-hoc environments) or when <c>Edge:EnsureTopics</c> is set. Production topics are
/// provisioned from infra/kafka/topics.tsv.
/// </summary>
internal sealed class TopicBootstrap(
    TopicProvisioner provisioner,
    TopicNames topics,
    IOptions<KafkaOptions> kafka,
    IOptions<ClusterOptions> cluster,
    IOptions<EdgeOptions> edge,
    ILogger<TopicBootstrap> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (topics.Prefix.Length == 0 && !edge.Value.EnsureTopics)
        {
            return;
        }

        await provisioner.EnsureAsync(TopicProvisioner.AllTopics(topics, kafka.Value.ChatPartitions, cluster.Value.EdgeNodes), cancellationToken);
        EdgeLog.TopicsEnsured(logger, topics.Prefix);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
