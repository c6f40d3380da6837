using Confluent.Kafka;
using Messaging.Contracts.Topics;
using Messaging.Hosting.Kafka;
using Messaging.Projections.Runtime;
using Messaging.ReadModels.Checkpoints;
using Npgsql;

namespace Messaging.Projections.Status;

public sealed record PartitionStatus(string Topic, int Partition, long NextOffset, long? EndOffset, long? Lag);

public sealed record ProjectionStatus(string Projection, long Applied, long DeadLettered, long Skipped, IReadOnlyList<PartitionStatus> Partitions);

/// <summary>Checkpoints against the topics' end offsets: how far behind each projection is.</summary>
internal sealed class StatusQuery(NpgsqlDataSource dataSource, IEnumerable<IProjection> projections, TopicNames names, KafkaClientFactory clients, ProjectionMetrics metrics) : IDisposable
{
    private readonly Lazy<IConsumer<string, byte[]>> _watermarks = new(() =>
        new ConsumerBuilder<string, byte[]>(clients.ConsumerConfig($"{names.Prefix}projections.status", "projections-status")).Build());

    public async Task<IReadOnlyList<ProjectionStatus>> QueryAsync(CancellationToken cancellationToken)
    {
        var result = new List<ProjectionStatus>();
        var counters = metrics.Snapshot();
        foreach (var projection in projections)
        {
            var saved = await new CheckpointStore(dataSource).LoadAsync(projection.Name, cancellationToken);
            var partitions = new List<PartitionStatus>(saved.Count);
            foreach (var (key, next) in saved)
            {
                long? end = null;
                try
                {
                    end = _watermarks.Value.QueryWatermarkOffsets(new TopicPartition(key.Topic, key.Partition), TimeSpan.FromSeconds(2)).High.Value;
                }
                catch (KafkaException)
                {
                    // Broker unreachable: report the checkpoint without lag rather than fail the endpoint.
                }

                partitions.Add(new PartitionStatus(key.Topic, key.Partition, next, end, end is long e ? Math.Max(0, e - next) : null));
            }

            partitions.Sort(static (a, b) => (a.Topic, a.Partition).CompareTo((b.Topic, b.Partition)));
            counters.TryGetValue(projection.Name, out var c);
            result.Add(new ProjectionStatus(projection.Name, c?.Applied ?? 0, c?.DeadLettered ?? 0, c?.Skipped ?? 0, partitions));
        }

        return result;
    }

    public void Dispose()
    {
        if (_watermarks.IsValueCreated)
        {
            _watermarks.Value.Dispose();
        }
    }
}
