using System.Collections.Concurrent;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace Messaging.Hosting.Kafka;

/// <summary>
/// An in-memory table of the latest value per key of a compacted topic (e.g. <c>user.devices</c>,
/// <c>device.sessions</c>): reads every partition from the beginning, then keeps tailing. No
/// consumer group offsets are used: each process holds the whole table. A record whose value
/// does not decode is skipped (logged), a null value (tombstone) removes the key.
/// </summary>
public sealed partial class CompactedTopicTable<TValue> : IAsyncDisposable
    where TValue : class
{
    private readonly ConcurrentDictionary<string, TValue> _rows = new(StringComparer.Ordinal);
    private readonly KafkaClientFactory _clients;
    private readonly string _topic;
    private readonly Func<byte[], TValue?> _decode;
    private readonly ILogger _logger;
    private readonly TaskCompletionSource _caughtUp = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;

    public CompactedTopicTable(KafkaClientFactory clients, string topic, Func<byte[], TValue?> decode, ILogger logger)
    {
        _clients = clients;
        _topic = topic;
        _decode = decode;
        _logger = logger;
    }

    /// <summary>Raised on the reader thread after a row changed (key, new value or null when removed).</summary>
    public event Action<string, TValue?>? Changed;

    public int Count => _rows.Count;

    public ICollection<TValue> Values => _rows.Values;

    public bool TryGet(string key, out TValue value) => _rows.TryGetValue(key, out value!);

    /// <summary>Completes once every partition has been read up to its end as of start-up.</summary>
    public Task WaitCaughtUpAsync(CancellationToken cancellationToken) => _caughtUp.Task.WaitAsync(cancellationToken);

    public void Start()
    {
        // A dedicated thread: Consume blocks, and the thread pool must not be starved by it.
        _loop = Task.Factory.StartNew(() => Run(_stop.Token), _stop.Token, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    private void Run(CancellationToken cancellationToken)
    {
        try
        {
            var config = _clients.ConsumerConfig($"table-{_topic}-{Guid.NewGuid():N}", $"table-{_topic}");
            config.AutoOffsetReset = AutoOffsetReset.Earliest;
            config.EnablePartitionEof = true;
            using var consumer = new ConsumerBuilder<string, byte[]>(config).Build();
            using var admin = new AdminClientBuilder(_clients.AdminConfig($"table-{_topic}")).Build();
            var metadata = admin.GetMetadata(_topic, TimeSpan.FromSeconds(10));
            var partitions = metadata.Topics.Single(t => t.Topic == _topic).Partitions
                .Select(p => new TopicPartition(_topic, p.PartitionId)).ToList();
            if (partitions.Count == 0)
            {
                throw new InvalidOperationException($"Topic {_topic} has no partitions.");
            }

            // Caught up = reached each partition's high watermark as it was at start.
            var pending = new Dictionary<int, long>();
            foreach (var tp in partitions)
            {
                var high = consumer.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(10)).High.Value;
                if (high > 0)
                {
                    pending[tp.Partition.Value] = high;
                }
            }

            consumer.Assign(partitions.Select(tp => new TopicPartitionOffset(tp, Offset.Beginning)));
            if (pending.Count == 0)
            {
                _caughtUp.TrySetResult();
            }

            while (!cancellationToken.IsCancellationRequested)
            {
                var result = consumer.Consume(TimeSpan.FromMilliseconds(200));
                if (result is null)
                {
                    continue;
                }

                if (!result.IsPartitionEOF)
                {
                    Apply(result);
                }

                if (pending.Count > 0 && pending.TryGetValue(result.Partition.Value, out var target)
                    && (result.IsPartitionEOF || result.Offset.Value + 1 >= target))
                {
                    pending.Remove(result.Partition.Value);
                    if (pending.Count == 0)
                    {
                        LogCaughtUp(_logger, _topic, _rows.Count);
                        _caughtUp.TrySetResult();
                    }
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            LogReaderFailed(_logger, ex, _topic);
            _caughtUp.TrySetException(ex);
            throw;
        }
    }

    private void Apply(ConsumeResult<string, byte[]> result)
    {
        var key = result.Message.Key;
        if (key is null)
        {
            return;
        }

        if (result.Message.Value is null)
        {
            _rows.TryRemove(key, out _);
            Changed?.Invoke(key, null);
            return;
        }

        var value = _decode(result.Message.Value);
        if (value is null)
        {
            LogUndecodable(_logger, _topic, result.Partition.Value, result.Offset.Value);
            return;
        }

        _rows[key] = value;
        Changed?.Invoke(key, value);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_loop is not null)
        {
            try
            {
                await _loop;
            }
            catch (Exception)
            {
                // Already logged by the loop.
            }
        }

        _stop.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Table {Topic} caught up with {Rows} rows")]
    private static partial void LogCaughtUp(ILogger logger, string topic, int rows);

    [LoggerMessage(Level = LogLevel.Error, Message = "Table reader for {Topic} failed")]
    private static partial void LogReaderFailed(ILogger logger, Exception exception, string topic);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Skipped undecodable record in {Topic} [{Partition}] @{Offset}")]
    private static partial void LogUndecodable(ILogger logger, string topic, int partition, long offset);
}
