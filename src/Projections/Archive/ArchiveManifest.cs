using System.Globalization;

namespace Messaging.Projections.Archive;

/// <summary>
/// What the archive holds of one partition: its files in offset order, contiguous, and the file
/// being written, if any. On S3 it is not one object but one small object per recorded file,
/// <c>{Prefix}/_manifest/partition=N/{first:D20}-{last:D20}_{yyyy-MM-dd}_{HH}</c>, listed in
/// key (= offset) order, plus <c>pending</c>: nothing a reader lists is ever overwritten. A
/// single manifest object rewritten per file was read half-written by concurrent readers on
/// s3rver, which overwrites in place (3 of 3 test runs failed: MD5 mismatches, bodies ending early).
/// A range counts as archived only once its entry exists: the archiver writes the file, then
/// the entry. <see cref="Pending"/> names the file before it is written, so that a restart
/// rewrites exactly that range under exactly that name (never a second file over part of it).
/// </summary>
public sealed record ArchiveManifest
{
    public required int Partition { get; init; }

    public IReadOnlyList<ArchivedFile> Files { get; init; } = [];

    /// <summary>A file named but not yet recorded (null once recorded or when none).</summary>
    public ArchivedFile? Pending { get; init; }

    /// <summary>The first offset the archive does not hold (where the archiver resumes); null when it holds nothing.</summary>
    public long? NextOffset => Files.Count == 0 ? null : Files[^1].LastOffset + 1;

    public long? FirstOffset => Files.Count == 0 ? null : Files[0].FirstOffset;

    /// <summary>The manifest once <paramref name="file"/> is recorded (it must start where the archive ends).</summary>
    public ArchiveManifest Record(ArchivedFile file)
    {
        if (NextOffset is long next && file.FirstOffset != next)
        {
            throw new InvalidOperationException($"Archive of partition {Partition} ends before offset {next}; {file.Key} starts at {file.FirstOffset}: refusing to leave a gap or an overlap.");
        }

        return this with { Files = [.. Files, file], Pending = null };
    }

    /// <summary>The manifest once <paramref name="revision"/> replaces the recorded file over the same offsets (an erasure).</summary>
    public ArchiveManifest Revise(ArchivedFile revision)
    {
        var files = new List<ArchivedFile>(Files);
        var i = files.FindIndex(f => f.FirstOffset == revision.FirstOffset && f.LastOffset == revision.LastOffset);
        if (i < 0 || files[i].Revision >= revision.Revision)
        {
            throw new InvalidOperationException($"Archive of partition {Partition}: {revision.Key} revises no older file over its offsets.");
        }

        files[i] = revision;
        return this with { Files = files };
    }

    /// <summary>
    /// A partition's manifest from its entries as S3 lists them (key order): of several entries
    /// over the same offsets (revisions of a file, written by an erasure) the highest revision
    /// counts; the others are <see cref="Superseded"/>, left by an erasure that stopped before
    /// deleting them. Pure.
    /// </summary>
    public static ArchiveManifest FromEntries(int partition, IEnumerable<ArchivedFile> entries)
    {
        var files = new List<ArchivedFile>();
        var superseded = new List<ArchivedFile>();
        foreach (var entry in entries)
        {
            var i = files.FindLastIndex(f => f.FirstOffset == entry.FirstOffset && f.LastOffset == entry.LastOffset);
            if (i < 0)
            {
                files.Add(entry);
            }
            else if (entry.Revision > files[i].Revision)
            {
                superseded.Add(files[i]);
                files[i] = entry;
            }
            else
            {
                superseded.Add(entry);
            }
        }

        return new ArchiveManifest { Partition = partition, Files = files, Superseded = superseded };
    }

    /// <summary>Recorded files replaced by a later revision whose entries (and objects) still exist: to delete.</summary>
    public IReadOnlyList<ArchivedFile> Superseded { get; init; } = [];
}

/// <summary>
/// One Parquet file: its key, the offsets it holds (both included), their hour folder, and its
/// revision (0 as first written; each erasure of deleted messages' content writes the next one
/// under a new key, docs/operations.md "Archive").
/// </summary>
public sealed record ArchivedFile(string Key, int Partition, long FirstOffset, long LastOffset, DateTime Hour, int Revision = 0)
{
    /// <summary>Records in the file: <c>chat.events</c> is never compacted, so its offsets are dense.</summary>
    public long Records => LastOffset - FirstOffset + 1;
}

/// <summary>Object keys of the archive. Pure.</summary>
public static class ArchiveKeys
{
    private const string HourFormat = "yyyy-MM-dd'_'HH";

    /// <summary><c>{prefix}/date=YYYY-MM-DD/hour=HH/part-{partition}-{first}-{last}.parquet</c>: the same records always get the same name.</summary>
    /// <remarks>A revision (an erasure's rewrite) is <c>part-…-{last}.r{revision}.parquet</c>: a new key, so that no object a reader listed is overwritten.</remarks>
    public static ArchivedFile File(string prefix, DateTime hourUtc, int partition, long firstOffset, long lastOffset, int revision = 0) =>
        new(
            revision == 0
                ? string.Create(CultureInfo.InvariantCulture, $"{prefix}/date={hourUtc:yyyy-MM-dd}/hour={hourUtc:HH}/part-{partition}-{firstOffset}-{lastOffset}.parquet")
                : string.Create(CultureInfo.InvariantCulture, $"{prefix}/date={hourUtc:yyyy-MM-dd}/hour={hourUtc:HH}/part-{partition}-{firstOffset}-{lastOffset}.r{revision}.parquet"),
            partition,
            firstOffset,
            lastOffset,
            hourUtc,
            revision);

    /// <summary>The next revision of <paramref name="file"/> (same offsets and hour, a new key).</summary>
    public static ArchivedFile Next(string prefix, ArchivedFile file) =>
        File(prefix, file.Hour, file.Partition, file.FirstOffset, file.LastOffset, file.Revision + 1);

    public static string ManifestPrefix(string prefix) => prefix + "/_manifest/";

    public static string PartitionPrefix(string prefix, int partition) =>
        string.Create(CultureInfo.InvariantCulture, $"{prefix}/_manifest/partition={partition}/");

    /// <summary>The entry that records a file: its range and hour in the name, zero-padded so that S3's key order is offset order.</summary>
    /// <remarks>A revision appends <c>_r{revision:D6}</c>, so it lists right after the entries it supersedes.</remarks>
    public static string Entry(string prefix, ArchivedFile file) =>
        file.Revision == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{PartitionPrefix(prefix, file.Partition)}{file.FirstOffset:D20}-{file.LastOffset:D20}_{file.Hour.ToString(HourFormat, CultureInfo.InvariantCulture)}")
            : string.Create(CultureInfo.InvariantCulture, $"{PartitionPrefix(prefix, file.Partition)}{file.FirstOffset:D20}-{file.LastOffset:D20}_{file.Hour.ToString(HourFormat, CultureInfo.InvariantCulture)}_r{file.Revision:D6}");

    public static string Pending(string prefix, int partition) => PartitionPrefix(prefix, partition) + "pending";

    /// <summary>Reads an entry's key back (null: not an entry, e.g. <c>pending</c>).</summary>
    public static ArchivedFile? ParseEntry(string prefix, string key)
    {
        var head = ManifestPrefix(prefix) + "partition=";
        if (!key.StartsWith(head, StringComparison.Ordinal))
        {
            return null;
        }

        var rest = key.AsSpan(head.Length);
        var slash = rest.IndexOf('/');
        var name = slash < 0 ? default : rest[(slash + 1)..];
        var revision = 0;
        if (name.Length == 63 && name[55] == '_' && name[56] == 'r')
        {
            if (!int.TryParse(name[57..], NumberStyles.None, CultureInfo.InvariantCulture, out revision) || revision == 0)
            {
                return null;
            }

            name = name[..55];
        }

        if (slash < 0 || name.Length != 55 || name[20] != '-' || name[41] != '_'
            || !int.TryParse(rest[..slash], NumberStyles.None, CultureInfo.InvariantCulture, out var partition)
            || !long.TryParse(name[..20], NumberStyles.None, CultureInfo.InvariantCulture, out var first)
            || !long.TryParse(name.Slice(21, 20), NumberStyles.None, CultureInfo.InvariantCulture, out var last)
            || !DateTime.TryParseExact(name[42..], HourFormat, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var hour))
        {
            return null;
        }

        return File(prefix, hour, partition, first, last, revision);
    }

    /// <summary>The hour an event belongs to (its <c>occurredAt</c>, UTC, truncated).</summary>
    public static DateTime Hour(DateTimeOffset at)
    {
        var utc = at.UtcDateTime;
        return new DateTime(utc.Year, utc.Month, utc.Day, utc.Hour, 0, 0, DateTimeKind.Utc);
    }
}
