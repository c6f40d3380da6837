using System.Diagnostics;
using Confluent.Kafka;
using Spectre.Console;

namespace Messaging.Bench.Components;

/// <summary>
/// Writes a backlog as fast as the broker takes it: fire-and-forget produces with one shared
/// delivery handler, a deep local queue and large batches, waiting only when the queue is full,
/// then a flush. Order per partition holds because the profile keeps one request in flight
/// (Legacy09), so ChatCreated always precedes a chat's messages.
/// </summary>
public sealed class BacklogProducer : IDisposable
{
    private readonly IProducer<string, byte[]> _producer;
    private readonly IAnsiConsole _console;
    private readonly TimeSpan _progressInterval;
    private readonly Action<DeliveryReport<string, byte[]>> _onDelivery;
    private long _acked;
    private long _failed;
    private string? _lastError;

    public BacklogProducer(KafkaTarget target, IReadOnlyDictionary<string, string> producerSettings, IAnsiConsole console, TimeSpan progressInterval)
    {
        var config = target.Clients.ProducerConfig("bench-prefill");
        foreach (var (key, value) in producerSettings)
        {
            config.Set(key, value);
        }

        _producer = new ProducerBuilder<string, byte[]>(config).Build();
        _console = console;
        _progressInterval = progressInterval;
        _onDelivery = report =>
        {
            if (report.Error.IsError)
            {
                Interlocked.Increment(ref _failed);
                _lastError = report.Error.Reason;
            }
            else
            {
                Interlocked.Increment(ref _acked);
            }
        };
    }

    /// <summary>
    /// Throughput settings for a pre-fill, on top of the profile: the services' 1 ms linger and
    /// default batch sizes are tuned for latency; a backlog wants few, full requests.
    /// </summary>
    public static IReadOnlyDictionary<string, string> DefaultSettings { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["linger.ms"] = "20",
        ["batch.num.messages"] = "10000",
        ["queue.buffering.max.messages"] = "1000000",
        ["queue.buffering.max.kbytes"] = "1048576",
    };

    public long Acked => Interlocked.Read(ref _acked);

    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>
    /// Produces <paramref name="count"/> records from <paramref name="record"/> (index → topic, key,
    /// value) and waits for every acknowledgement, printing progress; throws if any failed.
    /// </summary>
    public void ProduceAll(string what, long count, Func<long, (string Topic, string Key, byte[] Value)> record, CancellationToken cancellationToken)
    {
        var startAcked = Acked;
        var clock = Stopwatch.StartNew();
        var nextProgress = _progressInterval;
        for (long i = 0; i < count; i++)
        {
            var (topic, key, value) = record(i);
            var message = new Message<string, byte[]> { Key = key, Value = value };
            while (true)
            {
                try
                {
                    _producer.Produce(topic, message, _onDelivery);
                    break;
                }
                catch (ProduceException<string, byte[]> ex) when (ex.Error.Code == ErrorCode.Local_QueueFull)
                {
                    // The local queue is the backpressure: serve delivery reports until there is room.
                    _producer.Poll(TimeSpan.FromMilliseconds(50));
                    cancellationToken.ThrowIfCancellationRequested();
                }
            }

            if (clock.Elapsed >= nextProgress)
            {
                Report(what, i + 1, count, Acked - startAcked, clock.Elapsed);
                nextProgress = clock.Elapsed + _progressInterval;
                cancellationToken.ThrowIfCancellationRequested();
            }
        }

        while (_producer.Flush(_progressInterval) > 0)
        {
            Report(what, count, count, Acked - startAcked, clock.Elapsed);
            cancellationToken.ThrowIfCancellationRequested();
        }

        if (Failed > 0)
        {
            throw new InvalidOperationException($"{Failed} records of the backlog were not written: {_lastError}");
        }

        _console.MarkupLineInterpolated($"  {what}: {count:N0} records acknowledged in {clock.Elapsed.TotalSeconds:0.0} s ({count / Math.Max(clock.Elapsed.TotalSeconds, 1e-3):N0}/s)");
    }

    private void Report(string what, long queued, long count, long acked, TimeSpan elapsed) =>
        _console.MarkupLineInterpolated($"  {what}: {queued:N0}/{count:N0} queued, {acked:N0} acknowledged ({100.0 * acked / Math.Max(count, 1):0} %, {acked / Math.Max(elapsed.TotalSeconds, 1e-3):N0}/s)");

    public void Dispose() => _producer.Dispose();
}
