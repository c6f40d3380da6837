using Confluent.Kafka;
using Messaging.Contracts.Events;
using Messaging.Contracts.Serialization;
using Messaging.Router.Routing;

namespace Messaging.UnitTests.Router;

/// <summary>
/// The broker replaced for the batch processors' tests: records what was produced, and in which
/// phase (how many acknowledgement waits came before it), so tests can check what is durable
/// before what.
/// </summary>
internal sealed class RecordingSink : IRecordSink
{
    /// <summary>What was produced; <c>Headers</c> null when the record was produced without any.</summary>
    public List<(string Topic, int Partition, string Key, byte[] Value, int Phase, Headers? Headers)> Records { get; } = [];

    public List<(ConsumeResult<string, byte[]> Record, string Reason)> Parked { get; } = [];

    public int AckWaits { get; private set; }

    public bool FailNextWait { get; set; }

    public void Produce(TopicPartition target, string key, byte[] value) => Produce(target, key, value, null);

    public void Produce(TopicPartition target, string key, byte[] value, Headers? headers) =>
        Records.Add((target.Topic, target.Partition.Value, key, value, AckWaits, headers));

    public void Park(ConsumeResult<string, byte[]> record, string reason) => Parked.Add((record, reason));

    public void WaitForAcks(CancellationToken cancellationToken)
    {
        if (FailNextWait)
        {
            FailNextWait = false;
            throw new KafkaException(ErrorCode.Local_MsgTimedOut);
        }

        AckWaits++;
    }

    public List<T> Decoded<T>(string topic)
        where T : class
    {
        var codec = typeof(T) == typeof(ChatEvent) ? (object)Codecs.Events : Codecs.Deliveries;
        return Records.Where(r => r.Topic == topic)
            .Select(r => (T)(object)(codec is RecordCodec<ChatEvent> e ? e.Decode(r.Value).Value! : Codecs.Deliveries.Decode(r.Value).Value!))
            .ToList();
    }
}
