using Confluent.Kafka;
using Messaging.Contracts.Topics;
using Messaging.Hosting.Kafka;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Messaging.Bench.Components;

/// <summary>
/// The broker and namespace a component benchmark writes to, with client settings built the way
/// the services build theirs (the same <c>kafka-profile.{Profile}.json</c>), so the pre-fill talks
/// to Kafka 0.9 exactly as Edge and the Router do.
/// </summary>
public sealed class KafkaTarget
{
    private KafkaTarget(KafkaClientFactory clients, string profile, string topicPrefix)
    {
        Clients = clients;
        Profile = profile;
        Topics = new TopicNames(topicPrefix);
    }

    public KafkaClientFactory Clients { get; }

    public string Profile { get; }

    public TopicNames Topics { get; }

    public string BootstrapServers => Clients.Options.BootstrapServers;

    public static KafkaTarget Create(string bootstrapServers, string profile, string topicPrefix)
    {
        var settings = KafkaProfileConfiguration.LoadProfile(profile)
            .Concat(
            [
                new("Kafka:BootstrapServers", bootstrapServers),
                new("Kafka:Profile", profile),
                new("Kafka:TopicPrefix", topicPrefix),
            ]);
        var options = new ConfigurationBuilder().AddInMemoryCollection(settings).Build()
            .GetSection(KafkaOptions.Section).Get<KafkaOptions>() ?? throw new InvalidOperationException("no Kafka settings");
        return new KafkaTarget(new KafkaClientFactory(Options.Create(options)), profile, topicPrefix);
    }

    /// <summary>Every topic of the namespace, created (0.9: auto-created) and with leaders, before anything is written.</summary>
    public Task EnsureTopicsAsync(int edgeNodes, CancellationToken cancellationToken) =>
        new TopicProvisioner(Clients).EnsureAsync(TopicProvisioner.AllTopics(Topics, Clients.Options.ChatPartitions, edgeNodes), cancellationToken);

    /// <summary>The environment a service process needs to use this broker and namespace.</summary>
    public Dictionary<string, string> ServiceEnvironment() => new(StringComparer.Ordinal)
    {
        ["Kafka__BootstrapServers"] = BootstrapServers,
        ["Kafka__Profile"] = Profile,
        ["Kafka__TopicPrefix"] = Topics.Prefix,
    };

    /// <summary>A consumer that never subscribes: for watermarks and, with a group id, that group's committed offsets.</summary>
    public IConsumer<string, byte[]> CreateProbe(string groupId) =>
        new ConsumerBuilder<string, byte[]>(Clients.ConsumerConfig(groupId, "bench-probe")).Build();

    public IReadOnlyList<TopicPartition> Partitions(string topic)
    {
        using var admin = new AdminClientBuilder(Clients.AdminConfig("bench-probe")).Build();
        var metadata = admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics.Single(t => t.Topic == topic);
        return [.. metadata.Partitions.Select(p => new TopicPartition(topic, p.PartitionId)).OrderBy(p => p.Partition.Value)];
    }
}
