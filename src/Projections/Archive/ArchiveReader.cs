using Messaging.Contracts.Topics;
using Messaging.Projections.Runtime;
using Messaging.ReadModels.Checkpoints;

namespace Messaging.Projections.Archive;

/// <summary>
/// Reads the archive back as the records Kafka held (same topic, partition, offset, key and
/// value), for a rebuild that starts before the topic's retention: files up to the manifest's
/// end, then Kafka from there (<see cref="Rebuild.RebuildRunner"/>).
/// </summary>
internal sealed class ArchiveReader(ArchiveStore store, TopicNames names)
{
    public Task<SortedDictionary<int, ArchiveManifest>> ManifestsAsync(CancellationToken cancellationToken) => store.LoadManifestsAsync(cancellationToken);

    /// <summary>
    /// The log's range per partition as a rebuild from the archive sees it: a partition's
    /// earliest offset is the archive's first when the archive reaches back further than Kafka.
    /// Fails when the archive ends before Kafka starts (records neither holds). Pure.
    /// </summary>
    public static List<(PartitionKey Partition, long Low, long High)> Extend(
        IReadOnlyList<(PartitionKey Partition, long Low, long High)> watermarks,
        string topic,
        IReadOnlyDictionary<int, ArchiveManifest> archive)
    {
        var result = new List<(PartitionKey, long, long)>(watermarks.Count);
        foreach (var (partition, low, high) in watermarks)
        {
            if (partition.Topic == topic && archive.TryGetValue(partition.Partition, out var manifest) && manifest.FirstOffset is long first)
            {
                var next = manifest.NextOffset!.Value;
                if (next < low)
                {
                    throw new InvalidOperationException($"{topic}[{partition.Partition}]: the archive ends at offset {next - 1} but Kafka starts at {low}: offsets {next}..{low - 1} are in neither (was the archiver off while retention ran?).");
                }

                result.Add((partition, Math.Min(first, low), high));
            }
            else
            {
                result.Add((partition, low, high));
            }
        }

        return result;
    }

    /// <summary>
    /// Pages of at most <paramref name="pageSize"/> records of one partition from
    /// <paramref name="from"/> (null: the beginning) up to, excluding, <paramref name="to"/>, in
    /// offset order. The next file is fetched and decoded while the caller writes the current pages.
    /// </summary>
    public async IAsyncEnumerable<List<SourceRecord>> ReadAsync(
        ArchiveManifest manifest,
        long? from,
        long to,
        int pageSize,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var files = new List<ArchivedFile>();
        foreach (var file in manifest.Files)
        {
            if (file.FirstOffset < to && (from is not long f || file.LastOffset >= f))
            {
                files.Add(file);
            }
        }

        if (files.Count == 0)
        {
            yield break;
        }

        var next = LoadAsync(files[0], cancellationToken);
        for (var i = 0; i < files.Count; i++)
        {
            var rows = await next;
            if (i + 1 < files.Count)
            {
                next = LoadAsync(files[i + 1], cancellationToken);
            }

            var page = new List<SourceRecord>(pageSize);
            foreach (var row in rows)
            {
                if (row.Offset < to && (from is not long start || row.Offset >= start))
                {
                    page.Add(ArchiveFile.ToRecord(row, names.ChatEvents));
                    if (page.Count == pageSize)
                    {
                        yield return page;
                        page = new List<SourceRecord>(pageSize);
                    }
                }
            }

            if (page.Count > 0)
            {
                yield return page;
            }
        }
    }

    private async Task<IList<ArchiveRow>> LoadAsync(ArchivedFile file, CancellationToken cancellationToken)
    {
        await using var stream = await store.GetFileAsync(file.Key, cancellationToken);
        return await ArchiveFile.DecodeAsync(stream, cancellationToken);
    }
}
