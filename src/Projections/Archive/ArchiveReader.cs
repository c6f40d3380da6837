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
    /// The files of <paramref name="ranges"/> that hold records of their range, one of each range
    /// in turn (each range's own in manifest order): a rebuild writes each partition's pages on
    /// its partition's writer (<c>Rebuild:Writers</c>), and partition after partition would keep
    /// all writers but one idle. Pure.
    /// </summary>
    internal static List<(ArchivedFile File, int Range)> FilesInReadOrder(IReadOnlyList<(ArchiveManifest Manifest, long? From, long To)> ranges)
    {
        var files = new List<(ArchivedFile File, int Range)>();
        var next = new int[ranges.Count];
        for (var added = true; added;)
        {
            added = false;
            for (var r = 0; r < ranges.Count; r++)
            {
                var (manifest, from, to) = ranges[r];
                while (next[r] < manifest.Files.Count)
                {
                    var file = manifest.Files[next[r]++];
                    if (file.FirstOffset < to && (from is not long f || file.LastOffset >= f))
                    {
                        files.Add((file, r));
                        added = true;
                        break;
                    }
                }
            }
        }

        return files;
    }

    /// <summary>
    /// Pages of at most <paramref name="pageSize"/> records, per range (a partition's manifest,
    /// from its position (null: the beginning) up to, excluding, its end), in offset order. Up
    /// to <paramref name="filesAhead"/> files are fetched and decoded while the caller writes:
    /// one file ahead read 200,000 events at 18k events/s against Kafka's 42k. With
    /// <paramref name="chatId"/>, only that chat's rows (by the <c>chat_id</c> column: a row
    /// that did not decode has none, as its record has no chat for a per-chat rebuild from Kafka).
    /// </summary>
    public async IAsyncEnumerable<List<SourceRecord>> ReadAsync(
        IReadOnlyList<(ArchiveManifest Manifest, long? From, long To)> ranges,
        int pageSize,
        int filesAhead,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken,
        string? chatId = null)
    {
        var files = FilesInReadOrder(ranges);
        var loading = new Queue<Task<IList<ArchiveRow>>>();
        var starts = new long?[ranges.Count];
        for (var r = 0; r < ranges.Count; r++)
        {
            starts[r] = ranges[r].From;
        }

        for (int i = 0, queued = 0; i < files.Count; i++)
        {
            while (queued < files.Count && queued <= i + filesAhead)
            {
                loading.Enqueue(LoadAsync(files[queued++].File, cancellationToken));
            }

            var rows = await loading.Dequeue();
            var range = files[i].Range;
            var to = ranges[range].To;
            var page = new List<SourceRecord>(pageSize);
            foreach (var row in rows)
            {
                if (row.Offset < to && (starts[range] is not long start || row.Offset >= start))
                {
                    // Moving the start past each row skips the overlap of two entries a paused,
                    // unfenced archiver could leave (docs/operations.md, "Archive").
                    starts[range] = row.Offset + 1;
                    if (chatId is not null && row.ChatId != chatId)
                    {
                        continue;
                    }

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

    /// <summary>
    /// <paramref name="manifest"/> with only the files that may hold events of
    /// <paramref name="chatId"/>: those whose entry's chat index lists it, and those whose entry
    /// has no index (written before entries carried one). The entries are read
    /// <paramref name="parallel"/> at a time (one small GET each, against a file's download).
    /// </summary>
    public async Task<ArchiveManifest> ChatFilesAsync(ArchiveManifest manifest, string chatId, int parallel, CancellationToken cancellationToken)
    {
        var keep = new bool[manifest.Files.Count];
        await Parallel.ForAsync(0, manifest.Files.Count, new ParallelOptions { MaxDegreeOfParallelism = parallel, CancellationToken = cancellationToken }, async (i, ct) =>
            keep[i] = await store.GetIndexAsync(manifest.Files[i], ct) is not { } index || index.HasChat(chatId));
        return manifest with { Files = KeepFiles(manifest.Files, keep) };
    }

    /// <summary>The files whose flag is set, in order. Pure.</summary>
    internal static List<ArchivedFile> KeepFiles(IReadOnlyList<ArchivedFile> files, IReadOnlyList<bool> keep)
    {
        var kept = new List<ArchivedFile>(files.Count);
        for (var i = 0; i < files.Count; i++)
        {
            if (keep[i])
            {
                kept.Add(files[i]);
            }
        }

        return kept;
    }

    private Task<IList<ArchiveRow>> LoadAsync(ArchivedFile file, CancellationToken cancellationToken) => Task.Run(
        async () =>
        {
            MemoryStream stream;
            try
            {
                stream = await store.GetFileAsync(file.Key, cancellationToken);
            }
            catch (Amazon.S3.AmazonS3Exception ex) when (ex.StatusCode == System.Net.HttpStatusCode.NotFound)
            {
                // An erasure replaced the file since the manifest was read: read its revision.
                var manifest = await store.LoadManifestAsync(file.Partition, cancellationToken);
                var revision = manifest.Files.FirstOrDefault(f => f.FirstOffset == file.FirstOffset && f.LastOffset == file.LastOffset && f.Revision > file.Revision)
                    ?? throw new InvalidOperationException($"{file.Key} is gone and no later revision records offsets {file.FirstOffset}..{file.LastOffset}.", ex);
                stream = await store.GetFileAsync(revision.Key, cancellationToken);
            }

            await using (stream)
            {
                return await ArchiveFile.DecodeAsync(stream, cancellationToken);
            }
        },
        cancellationToken);
}
