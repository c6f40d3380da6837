using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Messaging.Contracts.Topics;

namespace Messaging.Hosting.Kafka;

/// <summary>
/// Makes sure topics exist before a service consumes them. Production topics are provisioned
/// from infra/kafka/topics.tsv; this covers prefixed namespaces (tests, ad-hoc environments).
/// Kafka 0.9 has no CreateTopics API, so the <c>AutoCreate</c> mode asks for each topic's
/// metadata, which makes a broker with auto.create.topics.enable create it.
/// </summary>
public sealed class TopicProvisioner(KafkaClientFactory clients)
{
    public async Task EnsureAsync(IEnumerable<TopicSpec> topics, CancellationToken cancellationToken)
    {
        var list = topics.ToList();
        using var admin = new AdminClientBuilder(clients.AdminConfig("topic-provisioner")).Build();
        if (string.Equals(clients.Options.TopicCreation, "AdminApi", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                await admin.CreateTopicsAsync(list.Select(t => new TopicSpecification
                {
                    Name = t.Name,
                    NumPartitions = t.Partitions,
                    ReplicationFactor = -1,
                    Configs = t.Compacted ? new Dictionary<string, string> { ["cleanup.policy"] = "compact" } : null,
                }));
            }
            catch (CreateTopicsException ex) when (ex.Results.All(r => r.Error.Code is ErrorCode.NoError or ErrorCode.TopicAlreadyExists))
            {
            }
        }

        // Both modes: wait until every partition has a leader, so the first produce does not fail.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        foreach (var topic in list)
        {
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                Metadata metadata;
                try
                {
                    metadata = admin.GetMetadata(topic.Name, TimeSpan.FromSeconds(5));
                }
                catch (KafkaException ex) when (ex.Error.Code == ErrorCode.Local_TimedOut && DateTime.UtcNow < deadline)
                {
                    // A busy broker (0.9 creates the topic on this very request) may answer after
                    // 5 s: ask again until the deadline instead of failing the service's start
                    // (on a shared test broker holding ~19,000 partitions, test classes failed to start here).
                    continue;
                }

                var t = metadata.Topics.FirstOrDefault(m => m.Topic == topic.Name);
                if (t is not null && t.Error.Code == ErrorCode.NoError && t.Partitions.Count > 0 && t.Partitions.All(p => p.Leader >= 0))
                {
                    break;
                }

                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException($"Topic {topic.Name} has no leader after 60 s (error: {t?.Error.Reason ?? "not found"}).");
                }

                await Task.Delay(100, cancellationToken);
            }
        }
    }

    /// <summary>The topics of the whole system under the given names.</summary>
    public static IReadOnlyList<TopicSpec> AllTopics(TopicNames names, int chatPartitions, int edgeNodes)
    {
        var specs = new List<TopicSpec>
        {
            new(names.ChatCommands, chatPartitions, false),
            new(names.ChatEvents, chatPartitions, false),
            new(names.ChatState, chatPartitions, true),
            new(names.DeviceSessions, 4, true),
            new(names.UserDevices, 4, true),
            new(names.UserCommands, 4, false),
            new(names.DeviceAcks, 4, false),
            new(names.UserSettings, 4, true),
            new(names.DeadLetter, 1, false),
        };
        for (var k = 0; k < edgeNodes; k++)
        {
            specs.Add(new(names.DeliveryNode(k), 1, false));
        }

        return specs;
    }
}

public sealed record TopicSpec(string Name, int Partitions, bool Compacted);
