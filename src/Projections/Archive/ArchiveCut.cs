namespace Messaging.Projections.Archive;

/// <summary>
/// When the archiver closes a partition's file. Pure. Every reason but age is a function of the
/// records alone, and a file closed by age is named in the manifest (pending) before it is
/// written, so a rewrite after a crash always produces the same file under the same name.
/// </summary>
internal static class ArchiveCut
{
    /// <summary>
    /// Close the open file before appending a record of a later hour: a file lies in one
    /// <c>date=/hour=</c> folder. A record of an earlier hour (clocks of two Router processes)
    /// stays in the open file; queries by time filter on <c>occurred_at</c>, not on the folder.
    /// </summary>
    public static bool CloseBefore(int openRecords, DateTime fileHour, DateTime recordHour) =>
        openRecords > 0 && recordHour > fileHour;

    /// <summary>Close after appending once the file is full by count or by bytes.</summary>
    public static bool CloseAfter(int records, long bytes, ArchiveOptions options) =>
        records >= options.MaxRecordsPerFile || bytes >= options.MaxBytesPerFile;

    /// <summary>Close an open file whose first record arrived at least <c>MaxFileAgeSeconds</c> ago.</summary>
    public static bool Expired(int records, long openedAtMs, long nowMs, ArchiveOptions options) =>
        records > 0 && nowMs - openedAtMs >= options.MaxFileAgeSeconds * 1000L;
}
