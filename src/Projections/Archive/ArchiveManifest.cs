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
}

/// <summary>One Parquet file: its key, the offsets it holds (both included) and their hour folder.</summary>
public sealed record ArchivedFile(string Key, int Partition, long FirstOffset, long LastOffset, DateTime Hour)
{
    /// <summary>Records in the file: <c>chat.events</c> is never compacted, so its offsets are dense.</summary>
    public long Records => LastOffset - FirstOffset + 1;
}

/// <summary>Object keys of the archive. Pure.</summary>
public static class ArchiveKeys
{
    private const string HourFormat = "yyyy-MM-dd'_'HH";

    /// <summary><c>{prefix}/date=YYYY-MM-DD/hour=HH/part-{partition}-{first}-{last}.parquet</c>: the same records always get the same name.</summary>
    public static ArchivedFile File(string prefix, DateTime hourUtc, int partition, long firstOffset, long lastOffset) =>
        new(string.Create(CultureInfo.InvariantCulture, $"{prefix}/date={hourUtc:yyyy-MM-dd}/hour={hourUtc:HH}/part-{partition}-{firstOffset}-{lastOffset}.parquet"), partition, firstOffset, lastOffset, hourUtc);

    public static string ManifestPrefix(string prefix) => prefix + "/_manifest/";

    public static string PartitionPrefix(string prefix, int partition) =>
        string.Create(CultureInfo.InvariantCulture, $"{prefix}/_manifest/partition={partition}/");

    /// <summary>The entry that records a file: its range and hour in the name, zero-padded so that S3's key order is offset order.</summary>
    public static string Entry(string prefix, ArchivedFile file) =>
        string.Create(CultureInfo.InvariantCulture, $"{PartitionPrefix(prefix, file.Partition)}{file.FirstOffset:D20}-{file.LastOffset:D20}_{file.Hour.ToString(HourFormat, CultureInfo.InvariantCulture)}");

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
        if (slash < 0 || name.Length != 55 || name[20] != '-' || name[41] != '_'
            || !int.TryParse(rest[..slash], NumberStyles.None, CultureInfo.InvariantCulture, out var partition)
            || !long.TryParse(name[..20], NumberStyles.None, CultureInfo.InvariantCulture, out var first)
            || !long.TryParse(name.Slice(21, 20), NumberStyles.None, CultureInfo.InvariantCulture, out var last)
            || !DateTime.TryParseExact(name[42..], HourFormat, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var hour))
        {
            return null;
        }

        return File(prefix, hour, partition, first, last);
    }

    /// <summary>The hour an event belongs to (its <c>occurredAt</c>, UTC, truncated).</summary>
    public static DateTime Hour(DateTimeOffset at)
    {
        var utc = at.UtcDateTime;
        return new DateTime(utc.Year, utc.Month, utc.Day, utc.Hour, 0, 0, DateTimeKind.Utc);
    }
}
