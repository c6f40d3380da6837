using System.Text.Json;
using Confluent.Kafka;
using Messaging.Contracts.Delivery;
using Messaging.Contracts.Serialization;
using Messaging.Contracts.Topics;

namespace Messaging.Hosting.Kafka;

/// <summary>
/// Parks a record that cannot be decoded or applied on the dead-letter topic, with the reason,
/// so the consumer can move on instead of retrying it forever.
/// </summary>
public sealed class DeadLetterPublisher(IProducer<string, byte[]> producer, TopicNames topics, TimeProvider clock)
{
    public Task<DeliveryResult<string, byte[]>> ParkAsync(string consumer, ConsumeResult<string, byte[]> record, string reason, CancellationToken cancellationToken)
    {
        var parked = new ParkedRecord
        {
            Consumer = consumer,
            SourceTopic = record.Topic,
            Partition = record.Partition.Value,
            Offset = record.Offset.Value,
            Reason = reason,
            Key = record.Message.Key,
            Value = record.Message.Value ?? [],
            ParkedAt = clock.GetUtcNow(),
        };
        var bytes = JsonSerializer.SerializeToUtf8Bytes(parked, ContractsJsonContext.Default.ParkedRecord);
        return producer.ProduceAsync(topics.DeadLetter, new Message<string, byte[]> { Key = record.Topic, Value = bytes }, cancellationToken);
    }
}
