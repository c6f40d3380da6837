using Confluent.Kafka;
using Messaging.Contracts.Topics;
using Messaging.Hosting.Kafka;
using Messaging.Projections.Runtime;
using Microsoft.Extensions.Options;

namespace Messaging.Projections.Archive;

/// <summary>
/// Copies a topic (<c>chat.events</c>, <c>device.acks</c>: <see cref="IArchiveFormat{T}"/>) to
/// Parquet files on S3, each offset exactly once: per partition it
/// resumes where the manifest ends, fills a file until it is full, old or the hour changes, names
/// it in the manifest (pending), writes it, then records it. Partitions are shared out by a
/// consumer group, so one process owns a partition's manifest at a time.
/// </summary>
/// <typeparam name="T">The topic's decoded record.</typeparam>
internal sealed class Archiver<T>(
    IArchiveFormat<T> format,
    KafkaClientFactory clients,
    TopicNames names,
    TimeProvider clock,
    IOptions<ArchiveOptions> options,
    ILogger<Archiver<T>> logger) : BackgroundService
    where T : class
{
    private readonly Dictionary<int, OpenFile> _open = [];
    private readonly ArchiveStore _store = format.Store;

    public string GroupId => names.Prefix + format.Group;

    // The consumer API blocks; run the loop off the host's start-up path.
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.Run(() => RunAsync(stoppingToken), stoppingToken);

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        await RetryAsync(-1, ct => _store.EnsureBucketAsync(ct), cancellationToken);
        var config = clients.ConsumerConfig(GroupId, $"{format.Group}-{Environment.ProcessId}");
        config.FetchMinBytes = settings.FetchMinBytes;
        config.FetchWaitMaxMs = settings.FetchWaitMaxMs;
        using var consumer = new ConsumerBuilder<string, byte[]>(config)
            .SetPartitionsAssignedHandler((_, partitions) => OnAssigned(partitions, cancellationToken))
            .SetPartitionsRevokedHandler((_, partitions) => OnRevoked(partitions))
            .SetPartitionsLostHandler((_, partitions) => OnRevoked(partitions))
            .SetErrorHandler((_, error) => ArchiveLog.KafkaError(logger, error.Reason))
            .Build();
        consumer.Subscribe(format.Topic);
        ArchiveLog.Started(logger, GroupId, _store.Prefix);
        var poll = TimeSpan.FromMilliseconds(settings.PollMs);
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                ConsumeResult<string, byte[]>? result;
                try
                {
                    result = consumer.Consume(poll);
                }
                catch (ConsumeException ex)
                {
                    ArchiveLog.KafkaError(logger, ex.Error.Reason);
                    continue;
                }

                if (result is { IsPartitionEOF: false } && _open.TryGetValue(result.Partition.Value, out var file))
                {
                    await AppendAsync(consumer, file, result, cancellationToken);
                }

                var now = Now();
                foreach (var open in _open.Values)
                {
                    if (open.Pending is null && ArchiveCut.Expired(open.Records.Count, open.OpenedAtMs, now, settings))
                    {
                        await FlushAsync(consumer, open, cancellationToken);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Whatever is open is dropped, not written: the next owner reads it again from the manifest's end.
        }
        finally
        {
            consumer.Close();
        }
    }

    private async Task AppendAsync(IConsumer<string, byte[]> consumer, OpenFile file, ConsumeResult<string, byte[]> result, CancellationToken cancellationToken)
    {
        var offset = result.Offset.Value;
        if (offset < file.Next)
        {
            return;
        }

        if (offset > file.Next && file.Manifest.NextOffset is not null)
        {
            // The offset reset to the log's start: what lay between expired unarchived.
            ArchiveLog.Gap(logger, file.Partition, file.Next, offset);
            consumer.Pause([result.TopicPartition]);
            _open.Remove(file.Partition);
            return;
        }

        var record = new SourceRecord(result.Topic, file.Partition, offset, result.Message.Key, result.Message.Value);
        var e = format.Decode(result.Message.Value);
        if (file.Pending is { } pending)
        {
            // Rewriting a named file: exactly its range, whatever the limits say.
            file.Append(record, e, file.Hour, Now());
            if (offset >= pending.LastOffset)
            {
                await FlushAsync(consumer, file, cancellationToken);
            }

            return;
        }

        var hour = e is null ? file.Hour : format.Hour(e);
        if (ArchiveCut.CloseBefore(file.Records.Count, file.Hour, hour))
        {
            await FlushAsync(consumer, file, cancellationToken);
        }

        file.Append(record, e, hour, Now());
        if (ArchiveCut.CloseAfter(file.Records.Count, file.Bytes, options.Value))
        {
            await FlushAsync(consumer, file, cancellationToken);
        }
    }

    /// <summary>Name the file in the manifest, write it, record it; then the next file starts after it.</summary>
    private async Task FlushAsync(IConsumer<string, byte[]> consumer, OpenFile file, CancellationToken cancellationToken)
    {
        var (bytes, index) = await format.EncodeAsync(file.Records, file.Events, cancellationToken);
        var first = file.Records[0].Offset;
        var last = file.Records[^1].Offset;
        var archived = file.Pending ?? ArchiveKeys.File(_store.Prefix, file.Hour, file.Partition, first, last);
        if (file.Pending is null)
        {
            await RetryAsync(file.Partition, ct => _store.NamePendingAsync(archived, ct), cancellationToken);
        }

        // Named first: a crash during an erasure rewrites this file, and so erases again.
        file.Revise(await RetryAsync(file.Partition, ct => format.BeforeWriteAsync(file.Manifest, file.Events, ct), cancellationToken));

        await RetryAsync(file.Partition, ct => _store.PutFileAsync(archived.Key, bytes, ct), cancellationToken);
        var recorded = file.Manifest.Record(archived);
        await RetryAsync(file.Partition, ct => _store.RecordAsync(archived, index, ct), cancellationToken);
        format.Recorded(archived, index);
        ArchiveLog.Wrote(logger, archived.Key, file.Records.Count, bytes.Length);
        file.Reset(recorded);
        try
        {
            // Informational (operators' lag tools): the manifest is the position.
            consumer.Commit([new TopicPartitionOffset(format.Topic, file.Partition, last + 1)]);
        }
        catch (KafkaException ex)
        {
            ArchiveLog.KafkaError(logger, ex.Error.Reason);
        }
    }

    private List<TopicPartitionOffset> OnAssigned(List<TopicPartition> partitions, CancellationToken cancellationToken)
    {
        var offsets = new List<TopicPartitionOffset>(partitions.Count);
        foreach (var tp in partitions)
        {
            var partition = tp.Partition.Value;
            var manifest = RetryAsync(partition, ct => _store.LoadManifestAsync(partition, ct), cancellationToken).GetAwaiter().GetResult();
            RetryAsync(partition, ct => format.AssignedAsync(manifest, ct), cancellationToken).GetAwaiter().GetResult();
            var file = new OpenFile(partition, manifest);
            _open[partition] = file;
            var start = manifest.Pending?.FirstOffset ?? manifest.NextOffset;
            if (manifest.Pending is { } pending)
            {
                ArchiveLog.Rewriting(logger, partition, pending.Key);
            }

            ArchiveLog.Resumed(logger, partition, start, manifest.Files.Count);
            offsets.Add(new TopicPartitionOffset(tp, start is long s ? new Offset(s) : Offset.Beginning));
        }

        return offsets;
    }

    private void OnRevoked(List<TopicPartitionOffset> partitions)
    {
        foreach (var tp in partitions)
        {
            _open.Remove(tp.Partition.Value);
        }
    }

    private long Now() => clock.GetTimestamp() * 1000 / clock.TimestampFrequency;

    /// <summary>S3 errors are not the records' fault: the same step again, with back-off, until it works or the service stops.</summary>
    private async Task RetryAsync(int partition, Func<CancellationToken, Task> step, CancellationToken cancellationToken) =>
        await RetryAsync<bool>(partition, async ct =>
        {
            await step(ct);
            return true;
        }, cancellationToken);

    private async Task<TResult> RetryAsync<TResult>(int partition, Func<CancellationToken, Task<TResult>> step, CancellationToken cancellationToken)
    {
        var backoff = options.Value.RetryBackoffMs;
        while (true)
        {
            try
            {
                return await step(cancellationToken);
            }
            catch (Exception ex) when (ex is Amazon.Runtime.AmazonServiceException or Amazon.Runtime.AmazonClientException or HttpRequestException or IOException && !cancellationToken.IsCancellationRequested)
            {
                ArchiveLog.StoreFailed(logger, ex, partition, backoff);
                await Task.Delay(backoff, cancellationToken);
                backoff = Math.Min(backoff * 2, options.Value.MaxRetryBackoffMs);
            }
        }
    }

    /// <summary>A partition's file being filled, and its manifest as last written.</summary>
    private sealed class OpenFile(int partition, ArchiveManifest manifest)
    {
        public int Partition { get; } = partition;

        public ArchiveManifest Manifest { get; private set; } = manifest;

        /// <summary>A file named before a restart and not recorded: rewritten over exactly its range.</summary>
        public ArchivedFile? Pending { get; private set; } = manifest.Pending;

        public List<SourceRecord> Records { get; } = [];

        public List<T?> Events { get; } = [];

        public long Bytes { get; private set; }

        public DateTime Hour { get; private set; } = manifest.Pending?.Hour ?? DateTime.MinValue;

        public long OpenedAtMs { get; private set; }

        /// <summary>The offset the next record must have.</summary>
        public long Next => Records.Count > 0 ? Records[^1].Offset + 1 : Pending?.FirstOffset ?? Manifest.NextOffset ?? 0;

        public void Append(SourceRecord record, T? e, DateTime hour, long nowMs)
        {
            if (Records.Count == 0)
            {
                OpenedAtMs = nowMs;
                if (Pending is null)
                {
                    // An undecodable first record takes the previous file's hour (or the epoch's).
                    Hour = hour;
                }
            }

            Records.Add(record);
            Events.Add(e);
            Bytes += record.Value?.Length ?? 0;
        }

        /// <summary>Earlier files rewritten by an erasure: the same offsets, new revisions.</summary>
        public void Revise(ArchiveManifest revised) => Manifest = revised;

        public void Reset(ArchiveManifest recorded)
        {
            Manifest = recorded;
            Pending = null;
            Records.Clear();
            Events.Clear();
            Bytes = 0;
        }
    }
}
