using Messaging.Contracts.Events;
using Messaging.Projections.Runtime;

namespace Messaging.Projections.Archive;

/// <summary>
/// Takes a deleted message's content out of the archive files written before the delete. Before
/// the archiver writes a file holding <c>MessageDeleted</c> events, it rewrites each earlier
/// recorded file of the partition that holds a deleted message or an edit of it (found by the
/// files' chat indexes, <see cref="ArchiveIndex"/>): the same rows, the message and its edits as
/// tombstones (as a delete within one file leaves them), as the next revision under a new key;
/// records the revision; then deletes the old entry and file. Nothing a reader listed is
/// overwritten, and the rebuild from the archive still equals the live read model: the delete
/// that follows tombstones the message either way.
/// </summary>
/// <remarks>
/// Exactly once through the manifest's pending name: the erasure runs after the file holding
/// the deletes is named and before it is written, so a crash anywhere in it rewrites that file,
/// which runs the erasure again. Each step is idempotent: a file whose targets are already
/// tombstones is left alone, a revision named after its predecessor is overwritten only while
/// unrecorded, and superseded revisions left by a crash are deleted when the partition is next
/// assigned (<see cref="CleanUpAsync"/>).
/// </remarks>
internal sealed class ArchiveEraser(ArchiveStore store, string topic, ILogger logger)
{
    /// <summary>Per recorded file key, its index (read from its entry, or from the file for entries older than indexes).</summary>
    private readonly Dictionary<string, ArchiveIndex> _indexes = new(StringComparer.Ordinal);

    /// <summary>The messages <paramref name="decoded"/> deletes, <c>(chatId, seq)</c>. Pure.</summary>
    public static HashSet<(string, long)> Targets(IReadOnlyList<ChatEvent?> decoded)
    {
        var targets = new HashSet<(string, long)>();
        foreach (var e in decoded)
        {
            if (e is MessageDeleted d)
            {
                targets.Add((d.ChatId, d.MessageSeq));
            }
        }

        return targets;
    }

    /// <summary>Remembers a file just recorded (its index is known: no read later).</summary>
    public void Recorded(ArchivedFile file, ArchiveIndex index) => _indexes[file.Key] = index;

    /// <summary>Erases <paramref name="targets"/> from the recorded files of <paramref name="manifest"/>; returns the manifest with the revisions.</summary>
    public async Task<ArchiveManifest> EraseAsync(ArchiveManifest manifest, IReadOnlySet<(string, long)> targets, CancellationToken cancellationToken)
    {
        if (targets.Count == 0)
        {
            return manifest;
        }

        foreach (var file in manifest.Files)
        {
            var index = await IndexAsync(file, cancellationToken);
            var hit = false;
            foreach (var (chat, seq) in targets)
            {
                hit |= index.MayHold(chat, seq);
            }

            if (hit && await ReviseAsync(file, targets, cancellationToken) is { } revision)
            {
                manifest = manifest.Revise(revision);
            }
        }

        return manifest;
    }

    /// <summary>Deletes revisions a crash left superseded (their entries and files).</summary>
    public async Task CleanUpAsync(ArchiveManifest manifest, CancellationToken cancellationToken)
    {
        foreach (var old in manifest.Superseded)
        {
            await store.DeleteAsync(old, cancellationToken);
            _indexes.Remove(old.Key);
        }
    }

    private async Task<ArchivedFile?> ReviseAsync(ArchivedFile file, IReadOnlySet<(string, long)> targets, CancellationToken cancellationToken)
    {
        var rows = await ReadAsync(file, cancellationToken);
        var records = new List<SourceRecord>(rows.Count);
        var decoded = new List<ChatEvent?>(rows.Count);
        var erased = new HashSet<(string, long)>();
        foreach (var row in rows)
        {
            records.Add(ArchiveFile.ToRecord(row, topic));
            var e = ArchiveFile.Decode(row.Value);
            decoded.Add(e);
            var target = e switch
            {
                MessageSent m => (m.ChatId, m.Seq),
                MessageEdited m => (m.ChatId, m.MessageSeq),
                _ => default((string, long)?),
            };
            if (target is { } t && !row.Deleted && targets.Contains(t))
            {
                erased.Add(t);
            }
        }

        if (erased.Count == 0)
        {
            // Already tombstones (a rerun after a crash), or the index's range held other seqs.
            return null;
        }

        var revised = ArchiveFile.Rows(records, decoded, erased);
        var bytes = await ArchiveFile.EncodeAsync(revised, cancellationToken);
        var next = ArchiveKeys.Next(store.Prefix, file);
        var index = ArchiveIndex.Of(revised);
        await store.PutFileAsync(next.Key, bytes, cancellationToken);
        await store.RecordAsync(next, index, cancellationToken);
        await store.DeleteAsync(file, cancellationToken);
        _indexes.Remove(file.Key);
        _indexes[next.Key] = index;
        ArchiveLog.Erased(logger, file.Key, next.Key, erased.Count);
        return next;
    }

    private async Task<ArchiveIndex> IndexAsync(ArchivedFile file, CancellationToken cancellationToken)
    {
        if (!_indexes.TryGetValue(file.Key, out var index))
        {
            // An entry written before entries carried an index: read the file once per process.
            index = await store.GetIndexAsync(file, cancellationToken) ?? ArchiveIndex.Of(await ReadAsync(file, cancellationToken));
            _indexes[file.Key] = index;
        }

        return index;
    }

    private async Task<IList<ArchiveRow>> ReadAsync(ArchivedFile file, CancellationToken cancellationToken)
    {
        await using var stream = await store.GetFileAsync(file.Key, cancellationToken);
        return await ArchiveFile.DecodeAsync(stream, cancellationToken);
    }
}
