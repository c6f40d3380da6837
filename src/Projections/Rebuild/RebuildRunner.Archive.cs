using Messaging.Contracts.Events;
using Messaging.Projections.Archive;
using Messaging.Projections.Runtime;
using Messaging.ReadModels.Checkpoints;

namespace Messaging.Projections.Rebuild;

internal sealed partial class RebuildRunner
{
    /// <summary>
    /// The archive part of a per-chat rebuild: per partition of <c>chat.events</c>, the archived
    /// records of <paramref name="chatId"/> up to the manifest's end (or the plan's end), decoded
    /// as from Kafka; <paramref name="from"/> then says where Kafka takes over. Rows of other
    /// chats are dropped by the archive's <c>chat_id</c> column before anything is decoded, and
    /// files whose manifest entry lists the chats they hold are not read when the chat is not
    /// among them (<see cref="ArchiveReader.ChatFilesAsync"/>).
    /// </summary>
    private async Task ReadChatFromArchiveAsync(
        IProjection projection,
        string chatId,
        IReadOnlyDictionary<int, ArchiveManifest> archived,
        Dictionary<PartitionKey, long?> from,
        Dictionary<PartitionKey, long> to,
        List<ApplyRecord> events,
        IRebuildProgress progress,
        CancellationToken cancellationToken)
    {
        var ranges = new List<(ArchiveManifest, long?, long)>();
        int files = 0, read = 0;
        foreach (var (partition, manifest) in archived)
        {
            var key = new PartitionKey(names.ChatEvents, partition);
            if (to.TryGetValue(key, out var target) && manifest.NextOffset is long end)
            {
                var until = Math.Min(target, end);
                var chatFiles = await archive.ChatFilesAsync(manifest, chatId, options.Value.DecodeAhead, cancellationToken);
                files += manifest.Files.Count;
                read += chatFiles.Files.Count;
                ranges.Add((chatFiles, null, until));
                from[key] = until;
            }
        }

        progress.Phase($"reading {read} of {files} archive files (the others' manifest entries do not list chat {chatId})");

        await foreach (var records in archive.ReadAsync(ranges, options.Value.PageSize, options.Value.DecodeAhead, cancellationToken, chatId))
        {
            foreach (var r in Page.Plan(projection, records, names).Apply)
            {
                if (r.Value is ChatEvent e && e.ChatId == chatId)
                {
                    events.Add(r);
                }
            }

            var last = records[^1];
            progress.Advanced(new PartitionKey(last.Topic, last.Partition), last.Offset + 1);
        }
    }
}
