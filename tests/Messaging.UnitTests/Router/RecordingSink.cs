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

    private long _lastAcknowledged = -1;

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
        _lastAcknowledged = Marks - 1;
    }

    /// <summary>Marks up to this id count as acknowledged (<see cref="IsAcknowledged"/>); all of them unless a test holds some back.</summary>
    public long AcknowledgedThrough { get; set; } = long.MaxValue;

    public int Marks { get; private set; }

    public AckMark Mark() => new(Marks++);

    /// <summary>Acknowledging a mark for the first time is an acknowledgement point, like a wait: later records are in the next phase.</summary>
    public bool IsAcknowledged(AckMark mark)
    {
        if (FailNextWait)
        {
            FailNextWait = false;
            throw new KafkaException(ErrorCode.Local_MsgTimedOut);
        }

        if (mark.Id > AcknowledgedThrough)
        {
            return false;
        }

        if (mark.Id > _lastAcknowledged)
        {
            _lastAcknowledged = mark.Id;
            AckWaits++;
        }

        return true;
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
