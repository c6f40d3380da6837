using Confluent.Kafka;
using Messaging.Contracts.Events;
using Messaging.Contracts.Topics;
using Messaging.Hosting.Kafka;
using Messaging.Projections.Runtime;
using Microsoft.Extensions.Options;

namespace Messaging.Projections.Archive;

/// <summary>
/// Copies <c>chat.events</c> to Parquet files on S3, each offset exactly once: per partition it
/// resumes where the manifest ends, fills a file until it is full, old or the hour changes, names
/// it in the manifest (pending), writes it, then records it. Partitions are shared out by a
/// consumer group, so one process owns a partition's manifest at a time.
/// </summary>
internal sealed class Archiver(
    ArchiveStore store,
    KafkaClientFactory clients,
    TopicNames names,
    TimeProvider clock,
    IOptions<ArchiveOptions> options,
    ILogger<Archiver> logger) : BackgroundService
{
    private readonly Dictionary<int, OpenFile> _open = [];
    private readonly ArchiveEraser _eraser = new(store, names.ChatEvents, logger);

    public string GroupId => $"{names.Prefix}projections.archive";

    // The consumer API blocks; run the loop off the host's start-up path.
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.Run(() => RunAsync(stoppingToken), stoppingToken);

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        await RetryAsync(-1, ct => store.EnsureBucketAsync(ct), cancellationToken);
        using var consumer = new ConsumerBuilder<string, byte[]>(clients.ConsumerConfig(GroupId, $"projections-archive-{Environment.ProcessId}"))
            .SetPartitionsAssignedHandler((_, partitions) => OnAssigned(partitions, cancellationToken))
            .SetPartitionsRevokedHandler((_, partitions) => OnRevoked(partitions))
            .SetPartitionsLostHandler((_, partitions) => OnRevoked(partitions))
            .SetErrorHandler((_, error) => ArchiveLog.KafkaError(logger, error.Reason))
            .Build();
        consumer.Subscribe(names.ChatEvents);
        ArchiveLog.Started(logger, GroupId, settings.Prefix);
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
        var e = ArchiveFile.Decode(result.Message.Value);
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

        var hour = e is null ? file.Hour : ArchiveKeys.Hour(e.OccurredAt);
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
        var rows = ArchiveFile.Rows(file.Records, file.Events);
        var bytes = await ArchiveFile.EncodeAsync(rows, cancellationToken);
        var first = file.Records[0].Offset;
        var last = file.Records[^1].Offset;
        var archived = file.Pending ?? ArchiveKeys.File(options.Value.Prefix, file.Hour, file.Partition, first, last);
        if (file.Pending is null)
        {
            await RetryAsync(file.Partition, ct => store.NamePendingAsync(archived, ct), cancellationToken);
        }

        // Named first: a crash during the erasure rewrites this file, and so erases again.
        var targets = ArchiveEraser.Targets(file.Events);
        if (targets.Count > 0)
        {
            file.Revise(await RetryAsync(file.Partition, ct => _eraser.EraseAsync(file.Manifest, targets, ct), cancellationToken));
        }

        await RetryAsync(file.Partition, ct => store.PutFileAsync(archived.Key, bytes, ct), cancellationToken);
        var recorded = file.Manifest.Record(archived);
        var index = ArchiveIndex.Of(rows);
        await RetryAsync(file.Partition, ct => store.RecordAsync(archived, index, ct), cancellationToken);
        _eraser.Recorded(archived, index);
        ArchiveLog.Wrote(logger, archived.Key, file.Records.Count, bytes.Length);
        file.Reset(recorded);
        try
        {
            // Informational (operators' lag tools): the manifest is the position.
            consumer.Commit([new TopicPartitionOffset(names.ChatEvents, file.Partition, last + 1)]);
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
            var manifest = RetryAsync(partition, ct => store.LoadManifestAsync(partition, ct), cancellationToken).GetAwaiter().GetResult();
            RetryAsync(partition, ct => _eraser.CleanUpAsync(manifest, ct), cancellationToken).GetAwaiter().GetResult();
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

    private async Task<T> RetryAsync<T>(int partition, Func<CancellationToken, Task<T>> step, CancellationToken cancellationToken)
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

        public List<ChatEvent?> Events { get; } = [];

        public long Bytes { get; private set; }

        public DateTime Hour { get; private set; } = manifest.Pending?.Hour ?? DateTime.MinValue;

        public long OpenedAtMs { get; private set; }

        /// <summary>The offset the next record must have.</summary>
        public long Next => Records.Count > 0 ? Records[^1].Offset + 1 : Pending?.FirstOffset ?? Manifest.NextOffset ?? 0;

        public void Append(SourceRecord record, ChatEvent? e, DateTime hour, long nowMs)
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
