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
    private readonly ConcurrentDictionary<int, long> _positions = new();
    private readonly object _progress = new();
    private IConsumer<string, byte[]>? _watermarks;
    private List<TopicPartition>? _partitions;
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
            var config = _clients.TableConsumerConfig($"table-{_topic}-{Guid.NewGuid():N}", $"table-{_topic}");
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

            _partitions = partitions;
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

                Advance(result.Partition.Value, result.IsPartitionEOF ? result.Offset.Value : result.Offset.Value + 1);

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

    /// <summary>
    /// Blocks until the table has read everything appended to its topic before this call (the
    /// partitions' current high watermarks), or until <paramref name="timeout"/>. This gives
    /// read-your-writes across topics: Edge awaits the broker's ack of a device registration
    /// before it accepts that device's commands, so a reader that catches up before deciding a
    /// command sees the registration. Without it a device registered a few milliseconds before a
    /// message was missing from that message's recipients (found by the end-to-end tests).
    /// Returns false on timeout.
    /// </summary>
    public bool CatchUp(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var partitions = _partitions;
        if (partitions is null)
        {
            return false;
        }

        _watermarks ??= new ConsumerBuilder<string, byte[]>(_clients.ConsumerConfig($"table-watermarks-{Guid.NewGuid():N}", $"table-{_topic}-watermarks")).Build();
        var deadline = DateTime.UtcNow + timeout;
        var highs = HighWatermarks.Query(_watermarks, partitions, timeout);
        return WaitFor(highs, 0, deadline, cancellationToken);
    }

    /// <summary>This table's partitions once its reader started, else null (for a caller that asks several tables' watermarks at once).</summary>
    public IReadOnlyList<TopicPartition>? Partitions => _partitions;

    /// <summary>
    /// Blocks until every partition of <see cref="Partitions"/> has been read up to its high
    /// watermark in <paramref name="highs"/> (starting at index <paramref name="first"/>, in
    /// partition order), or until <paramref name="deadline"/> (UTC); false on timeout.
    /// </summary>
    public bool WaitFor(IReadOnlyList<long> highs, int first, DateTime deadline, CancellationToken cancellationToken)
    {
        var partitions = _partitions;
        if (partitions is null)
        {
            return false;
        }

        for (var i = 0; i < partitions.Count; i++)
        {
            var partition = partitions[i].Partition.Value;
            var high = highs[first + i];
            lock (_progress)
            {
                while (_positions.GetValueOrDefault(partition) < high)
                {
                    var left = deadline - DateTime.UtcNow;
                    if (left <= TimeSpan.Zero || cancellationToken.IsCancellationRequested)
                    {
                        return false;
                    }

                    Monitor.Wait(_progress, left);
                }
            }
        }

        return true;
    }

    /// <summary><see cref="CatchUp"/> off the caller's thread (it blocks on a broker round trip); for rare paths such as a settings change.</summary>
    public Task<bool> CatchUpAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
        Task.Factory.StartNew(() => CatchUp(timeout, cancellationToken), cancellationToken, TaskCreationOptions.DenyChildAttach, TaskScheduler.Default);

    private void Advance(int partition, long position)
    {
        lock (_progress)
        {
            _positions[partition] = position;
            Monitor.PulseAll(_progress);
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

        _watermarks?.Dispose();
        _stop.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Table {Topic} caught up with {Rows} rows")]
    private static partial void LogCaughtUp(ILogger logger, string topic, int rows);

    [LoggerMessage(Level = LogLevel.Error, Message = "Table reader for {Topic} failed")]
    private static partial void LogReaderFailed(ILogger logger, Exception exception, string topic);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Skipped undecodable record in {Topic} [{Partition}] @{Offset}")]
    private static partial void LogUndecodable(ILogger logger, string topic, int partition, long offset);
}
