using Confluent.Kafka;
using Messaging.Hosting.Kafka;

namespace Messaging.Router.Routing;

/// <summary>Where a batch's output goes: produced without waiting, then acknowledged all at once.</summary>
public interface IRecordSink
{
    /// <summary>Queues a record (does not wait for the broker).</summary>
    void Produce(TopicPartition target, string key, byte[] value);

    /// <summary>As above, with record headers (null: none; only where the broker has them, <c>Kafka:TraceHeaders</c>).</summary>
    void Produce(TopicPartition target, string key, byte[] value, Headers? headers);

    /// <summary>Queues an undecodable command for the dead-letter topic.</summary>
    void Park(ConsumeResult<string, byte[]> record, string reason);

    /// <summary>Blocks until every queued record is acknowledged; throws if any failed.</summary>
    void WaitForAcks(CancellationToken cancellationToken);
}

/// <summary>
/// Produces through one shared producer with a single cached delivery handler: no Task per record
/// (ProduceAsync allocates one), no round trip per record. Per-chat order across retries comes
/// from the producer configuration (idempotence on modern brokers, max.in.flight=1 on 0.9).
/// Optionally the records of some topics (the node topics: pushes and replies) go through a
/// second producer, its own broker connection: with max.in.flight 1 a connection carries one
/// produce request at a time, one partition each, so a batch's pushes otherwise waited behind its
/// <c>chat.events</c> requests (<c>Router:PushProducer</c>). Order within a partition is kept:
/// each topic has one producer.
/// </summary>
public sealed class KafkaRecordSink : IRecordSink
{
    private readonly IProducer<string, byte[]> _producer;
    private readonly IProducer<string, byte[]>? _pushes;
    private readonly IReadOnlySet<string> _pushTopics;
    private readonly DeadLetterPublisher _deadLetters;
    private readonly string _consumerName;
    private readonly Action<DeliveryReport<string, byte[]>> _onDelivered;
    private readonly List<Task> _parks = [];
    private int _pending;
    private Error? _firstError;

    public KafkaRecordSink(IProducer<string, byte[]> producer, DeadLetterPublisher deadLetters, string consumerName)
        : this(producer, deadLetters, consumerName, null, new HashSet<string>())
    {
    }

    /// <summary>With <paramref name="pushes"/>, records of <paramref name="pushTopics"/> go through it; the rest through <paramref name="producer"/>.</summary>
    public KafkaRecordSink(IProducer<string, byte[]> producer, DeadLetterPublisher deadLetters, string consumerName, IProducer<string, byte[]>? pushes, IReadOnlySet<string> pushTopics)
    {
        _producer = producer;
        _pushes = pushes;
        _pushTopics = pushTopics;
        _deadLetters = deadLetters;
        _consumerName = consumerName;
        _onDelivered = OnDelivered;
    }

    public void Produce(TopicPartition target, string key, byte[] value) => Produce(target, key, value, null);

    public void Produce(TopicPartition target, string key, byte[] value, Headers? headers)
    {
        var message = new Message<string, byte[]> { Key = key, Value = value, Headers = headers };
        var producer = _pushes is not null && _pushTopics.Contains(target.Topic) ? _pushes : _producer;
        Interlocked.Increment(ref _pending);
        while (true)
        {
            try
            {
                producer.Produce(target, message, _onDelivered);
                return;
            }
            catch (ProduceException<string, byte[]> ex) when (ex.Error.Code == ErrorCode.Local_QueueFull)
            {
                // The client's queue is the backpressure: let it drain instead of failing the batch.
                producer.Poll(TimeSpan.FromMilliseconds(10));
            }
            catch
            {
                Interlocked.Decrement(ref _pending);
                throw;
            }
        }
    }

    public void Park(ConsumeResult<string, byte[]> record, string reason) =>
        _parks.Add(_deadLetters.ParkAsync(_consumerName, record, reason, CancellationToken.None));

    public void WaitForAcks(CancellationToken cancellationToken)
    {
        while (Volatile.Read(ref _pending) > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            _producer.Flush(TimeSpan.FromMilliseconds(100));
            _pushes?.Flush(TimeSpan.FromMilliseconds(100));
        }

        if (_parks.Count > 0)
        {
            var parks = Task.WhenAll(_parks);
            _parks.Clear();
            parks.Wait(cancellationToken);
        }

        var error = Interlocked.Exchange(ref _firstError, null);
        if (error is not null)
        {
            throw new KafkaException(error);
        }
    }

    private void OnDelivered(DeliveryReport<string, byte[]> report)
    {
        if (report.Error.IsError)
        {
            Interlocked.CompareExchange(ref _firstError, report.Error, null);
        }

        Interlocked.Decrement(ref _pending);
    }
}
