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

    /// <summary>A mark after every record (and parked command) queued so far; later ones fall after it.</summary>
    AckMark Mark();

    /// <summary>Without blocking: true once every record queued before <paramref name="mark"/> is acknowledged; throws if any failed.</summary>
    bool IsAcknowledged(AckMark mark);
}

/// <summary>A position in a sink's output (<see cref="IRecordSink.Mark"/>): marks are numbered in the order they were taken.</summary>
public readonly record struct AckMark(long Id);

/// <summary>
/// Produces through one shared producer with a single cached delivery handler: no Task per record
/// (ProduceAsync allocates one), no round trip per record. Per-chat order across retries comes
/// from the producer configuration (idempotence on modern brokers, max.in.flight=1 on 0.9).
/// Optionally the records of some topics (the node topics: pushes and replies) go through a
/// second producer, its own broker connection: with max.in.flight 1 a connection carries one
/// produce request at a time, one partition each, so a batch's pushes otherwise waited behind its
/// <c>chat.events</c> requests (<c>Router:PushProducer</c>). Order within a partition is kept:
/// each topic has one producer.
/// Records are counted per <em>epoch</em>, the records between two <see cref="Mark"/>s, so the
/// Router can ask whether everything before a mark is acknowledged without waiting, while it keeps
/// producing (docs/router.md, "Flushes").
/// </summary>
public sealed class KafkaRecordSink : IRecordSink
{
    private readonly IProducer<string, byte[]> _producer;
    private readonly IProducer<string, byte[]>? _pushes;
    private readonly IReadOnlySet<string> _pushTopics;
    private readonly DeadLetterPublisher _deadLetters;
    private readonly string _consumerName;
    private readonly List<Task> _parks = [];
    private readonly Queue<Epoch> _marked = new();
    private Epoch _open;
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
        _open = new Epoch(0, this);
    }

    public void Produce(TopicPartition target, string key, byte[] value) => Produce(target, key, value, null);

    public void Produce(TopicPartition target, string key, byte[] value, Headers? headers)
    {
        var message = new Message<string, byte[]> { Key = key, Value = value, Headers = headers };
        var producer = _pushes is not null && _pushTopics.Contains(target.Topic) ? _pushes : _producer;
        var epoch = _open;
        Interlocked.Increment(ref _pending);
        Interlocked.Increment(ref epoch.Pending);
        while (true)
        {
            try
            {
                producer.Produce(target, message, epoch.OnDelivered);
                return;
            }
            catch (ProduceException<string, byte[]> ex) when (ex.Error.Code == ErrorCode.Local_QueueFull)
            {
                // The client's queue is the backpressure: let it drain instead of failing the batch.
                producer.Poll(TimeSpan.FromMilliseconds(10));
            }
            catch
            {
                Interlocked.Decrement(ref epoch.Pending);
                Interlocked.Decrement(ref _pending);
                throw;
            }
        }
    }

    public void Park(ConsumeResult<string, byte[]> record, string reason)
    {
        var park = _deadLetters.ParkAsync(_consumerName, record, reason, CancellationToken.None);
        _parks.Add(park);
        _open.Parks.Add(park);
    }

    public AckMark Mark()
    {
        var closed = _open;
        _marked.Enqueue(closed);
        _open = new Epoch(closed.Id + 1, this);
        return new AckMark(closed.Id);
    }

    public bool IsAcknowledged(AckMark mark)
    {
        ThrowIfFailed();
        while (_marked.TryPeek(out var oldest) && oldest.IsAcknowledged())
        {
            _marked.Dequeue();
        }

        return !_marked.TryPeek(out var first) || first.Id > mark.Id;
    }

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

            // Finished, all of them: a loop that never marks (the device loop) must not keep them.
            _open.Parks.Clear();
            foreach (var epoch in _marked)
            {
                epoch.Parks.Clear();
            }
        }

        ThrowIfFailed();
    }

    private void ThrowIfFailed()
    {
        var error = Interlocked.Exchange(ref _firstError, null);
        if (error is not null)
        {
            throw new KafkaException(error);
        }
    }

    private void OnDelivered(Epoch epoch, DeliveryReport<string, byte[]> report)
    {
        if (report.Error.IsError)
        {
            Interlocked.CompareExchange(ref _firstError, report.Error, null);
        }

        Interlocked.Decrement(ref epoch.Pending);
        Interlocked.Decrement(ref _pending);
    }

    /// <summary>The records produced between two marks, and one cached delivery handler for all of them (one allocation per mark, none per record).</summary>
    private sealed class Epoch
    {
        public readonly long Id;
        public readonly Action<DeliveryReport<string, byte[]>> OnDelivered;
        public readonly List<Task> Parks = [];
        public int Pending;

        public Epoch(long id, KafkaRecordSink sink)
        {
            Id = id;
            OnDelivered = report => sink.OnDelivered(this, report);
        }

        /// <summary>Every record acknowledged and every park finished; a failed park throws its error.</summary>
        public bool IsAcknowledged()
        {
            if (Volatile.Read(ref Pending) > 0)
            {
                return false;
            }

            foreach (var park in Parks)
            {
                if (!park.IsCompleted)
                {
                    return false;
                }

                park.GetAwaiter().GetResult();
            }

            return true;
        }
    }
}
