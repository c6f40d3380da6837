namespace Messaging.Projections.Archive;

/// <summary>The archiver's log lines (event ids 60-69).</summary>
internal static partial class ArchiveLog
{
    [LoggerMessage(60, LogLevel.Information, "Archiver started (group {GroupId}, s3 prefix {Prefix})")]
    public static partial void Started(ILogger logger, string groupId, string prefix);

    [LoggerMessage(61, LogLevel.Information, "Archiver: partition {Partition} resumes at offset {Offset} ({Files} files archived)")]
    public static partial void Resumed(ILogger logger, int partition, long? offset, int files);

    [LoggerMessage(62, LogLevel.Information, "Archiver: partition {Partition} rewrites {Key} (named before a restart, not recorded)")]
    public static partial void Rewriting(ILogger logger, int partition, string key);

    [LoggerMessage(63, LogLevel.Debug, "Archiver: wrote {Key} ({Records} records, {Bytes} bytes)")]
    public static partial void Wrote(ILogger logger, string key, int records, long bytes);

    [LoggerMessage(64, LogLevel.Warning, "Archiver: S3 failed for partition {Partition}, retrying in {BackoffMs} ms")]
    public static partial void StoreFailed(ILogger logger, Exception exception, int partition, int backoffMs);

    [LoggerMessage(65, LogLevel.Error, "Archiver: partition {Partition} expected offset {Expected} but the log starts at {Actual}: records {Expected}..{Actual} expired before they were archived; the partition is paused (docs/operations.md, \"Archive\")")]
    public static partial void Gap(ILogger logger, int partition, long expected, long actual);

    [LoggerMessage(66, LogLevel.Warning, "Archiver: Kafka error {Reason}")]
    public static partial void KafkaError(ILogger logger, string reason);

    [LoggerMessage(67, LogLevel.Information, "Archiver: erased {Messages} deleted message(s) from {Key}, now {Revision}")]
    public static partial void Erased(ILogger logger, string key, string revision, int messages);
}
