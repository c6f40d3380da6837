namespace Messaging.Projections;

/// <summary>Every log line of the Projections service (source-generated, no boxing on the hot path).</summary>
internal static partial class ProjectionsLog
{
    [LoggerMessage(2, LogLevel.Information, "Projection {Projection} started (group {GroupId})")]
    public static partial void RunnerStarted(ILogger logger, string projection, string groupId);

    [LoggerMessage(3, LogLevel.Information, "Projection {Projection} stopped")]
    public static partial void RunnerStopped(ILogger logger, string projection);

    [LoggerMessage(4, LogLevel.Warning, "Projection {Projection}: Kafka error {Reason}")]
    public static partial void KafkaError(ILogger logger, string projection, string reason);

    [LoggerMessage(5, LogLevel.Warning, "Projection {Projection}: page of {Count} records failed, retrying in {BackoffMs} ms")]
    public static partial void PageFailed(ILogger logger, Exception exception, string projection, int count, int backoffMs);

    [LoggerMessage(6, LogLevel.Warning, "Projection {Projection}: parked {Count} records in dead_letters")]
    public static partial void DeadLettered(ILogger logger, string projection, int count);

    [LoggerMessage(7, LogLevel.Warning, "Projection {Projection}: checkpoint of {Partition} moved by another writer (expected {Expected}, now {Current}); page rolled back, continuing from the database position")]
    public static partial void Fenced(ILogger logger, string projection, string partition, long? expected, long? current);

    [LoggerMessage(8, LogLevel.Debug, "Projection {Projection}: committing the informational Kafka offset failed: {Reason}")]
    public static partial void KafkaCommitFailed(ILogger logger, string projection, string reason);

    [LoggerMessage(9, LogLevel.Information, "Projection {Projection}: assigned {Count} partitions, resuming from database checkpoints")]
    public static partial void Assigned(ILogger logger, string projection, int count);

    [LoggerMessage(10, LogLevel.Information, "Projection {Projection}: revoked {Count} partitions")]
    public static partial void Revoked(ILogger logger, string projection, int count);

    [LoggerMessage(11, LogLevel.Warning, "Projection {Projection}: loading checkpoints failed, retrying in {BackoffMs} ms")]
    public static partial void CheckpointLoadFailed(ILogger logger, Exception exception, string projection, int backoffMs);

    [LoggerMessage(12, LogLevel.Information, "Retention removed {History} history rows older than {HistoryCutoff:o}")]
    public static partial void RetentionSwept(ILogger logger, long history, DateTime historyCutoff);

    [LoggerMessage(13, LogLevel.Warning, "Retention sweep failed, next attempt in {IntervalSeconds} s")]
    public static partial void RetentionFailed(ILogger logger, Exception exception, int intervalSeconds);

    [LoggerMessage(14, LogLevel.Information, "Rebuild {Projection}: {Phase}")]
    public static partial void RebuildPhase(ILogger logger, string projection, string phase);

    [LoggerMessage(15, LogLevel.Information, "Inbox: listening on {Channel} for cursor flush requests of schema {Schema}")]
    public static partial void CursorFlushListening(ILogger logger, string channel, string schema);

    [LoggerMessage(16, LogLevel.Warning, "Inbox: listening for cursor flush requests failed, reconnecting in {BackoffMs} ms")]
    public static partial void CursorFlushListenFailed(ILogger logger, Exception exception, double backoffMs);
}
