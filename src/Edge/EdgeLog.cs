namespace Messaging.Edge;

/// <summary>Every log line of Edge, source-generated (no boxing, no parsing of templates at run time).</summary>
internal static partial class EdgeLog
{
    // Per-connection events are Debug: a bench run of 1,000 devices put 2,000 lines into `make run`;
    // the counts are on /metrics (messaging_edge_connections*).
    [LoggerMessage(EventId = 1, Level = LogLevel.Debug, Message = "Device {UserId}/{DeviceId} connected (session {SessionId})")]
    public static partial void Connected(ILogger logger, string userId, string deviceId, string sessionId);

    [LoggerMessage(EventId = 2, Level = LogLevel.Debug, Message = "Device {UserId}/{DeviceId} disconnected (close {CloseCode})")]
    public static partial void Disconnected(ILogger logger, string userId, string deviceId, int closeCode);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "Closing {UserId}/{DeviceId}: {Reason} ({CloseCode})")]
    public static partial void Closing(ILogger logger, string userId, string deviceId, string reason, int closeCode);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "Produce to {Topic} failed")]
    public static partial void ProduceFailed(ILogger logger, Exception exception, string topic);

    [LoggerMessage(EventId = 5, Level = LogLevel.Error, Message = "Request {Type} of {UserId}/{DeviceId} failed")]
    public static partial void RequestFailed(ILogger logger, Exception exception, string type, string userId, string deviceId);

    [LoggerMessage(EventId = 6, Level = LogLevel.Warning, Message = "Skipped undecodable delivery at {Topic} @{Offset}: {Error}")]
    public static partial void UndecodableDelivery(ILogger logger, string topic, long offset, string? error);

    [LoggerMessage(EventId = 7, Level = LogLevel.Information, Message = "Delivery consumer reading {Topic} from offset {Offset}")]
    public static partial void DeliveryStarted(ILogger logger, string topic, long offset);

    [LoggerMessage(EventId = 8, Level = LogLevel.Error, Message = "Delivery consumer of {Topic} failed")]
    public static partial void DeliveryFailed(ILogger logger, Exception exception, string topic);

    [LoggerMessage(EventId = 80, Level = LogLevel.Warning, Message = "A batch of {Count} acks was not written to device.acks; its devices were told to send them again")]
    public static partial void AckBatchFailed(ILogger logger, Exception exception, int count);

    [LoggerMessage(EventId = 14, Level = LogLevel.Warning, Message = "Delivery consumer of {Topic} still closing when the stop deadline passed; leaving its thread behind")]
    public static partial void DeliveryStopTimedOut(ILogger logger, string topic);

    [LoggerMessage(EventId = 9, Level = LogLevel.Warning, Message = "Renewing the lease of node {Node} failed ({Count} local sessions depend on it)")]
    public static partial void HeartbeatFailed(ILogger logger, Exception exception, int node, int count);

    [LoggerMessage(EventId = 10, Level = LogLevel.Information, Message = "Topics ensured under prefix '{Prefix}'")]
    public static partial void TopicsEnsured(ILogger logger, string prefix);

    [LoggerMessage(EventId = 11, Level = LogLevel.Warning, Message = "Refused device {UserId}/{DeviceId}: {Code}")]
    public static partial void DeviceRefused(ILogger logger, string userId, string deviceId, string code);

    [LoggerMessage(EventId = 61, Level = LogLevel.Warning, Message = "{Command} of device {UserId}/{DeviceId}: no decision from the Router within {TimeoutMs} ms")]
    public static partial void DeviceCommandTimedOut(ILogger logger, string command, string userId, string deviceId, int timeoutMs);

    [LoggerMessage(EventId = 63, Level = LogLevel.Warning, Message = "Could not catch this node's device lists up after a removal; they catch up on their own")]
    public static partial void DeviceListCatchUpFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 62, Level = LogLevel.Information, Message = "Closed the socket of {UserId}/{DeviceId}: the device was removed")]
    public static partial void RemovedDeviceClosed(ILogger logger, string userId, string deviceId);


    [LoggerMessage(EventId = 12, Level = LogLevel.Debug, Message = "Socket of {UserId}/{DeviceId} ended abnormally")]
    public static partial void SocketFailed(ILogger logger, Exception exception, string userId, string deviceId);

    [LoggerMessage(EventId = 13, Level = LogLevel.Warning, Message = "Kafka client: {Facility} {Message}")]
    public static partial void KafkaClientLog(ILogger logger, string facility, string message);

    // Presence uses 40-49, so that features added at the same time do not collide on ids.
    [LoggerMessage(EventId = 40, Level = LogLevel.Error, Message = "Presence {What} failed")]
    public static partial void PresenceFailed(ILogger logger, Exception exception, string what);

    [LoggerMessage(EventId = 50, Level = LogLevel.Warning, Message = "Read for {UserId}/{DeviceId}: the {Projection} projection did not catch up within {TimeoutMs} ms ({Behind} {Topic} partitions behind); answering with what it has")]
    public static partial void CatchUpTimedOut(ILogger logger, string userId, string deviceId, string projection, int timeoutMs, int behind, string topic);

    [LoggerMessage(EventId = 51, Level = LogLevel.Warning, Message = "Sync of {UserId}/{DeviceId}: could not check the projections' progress; streaming a partial inbox")]
    public static partial void SyncCatchUpFailed(ILogger logger, Exception exception, string userId, string deviceId);

    [LoggerMessage(EventId = 60, Level = LogLevel.Information, Message = "Closed the socket of {UserId}/{DeviceId}: a newer connection opened on node {Node}")]
    public static partial void ReplacedElsewhere(ILogger logger, string userId, string deviceId, int node);

    [LoggerMessage(EventId = 70, Level = LogLevel.Warning, Message = "HTTP {Path}: a backing service is unavailable (503)")]
    public static partial void HttpUnavailable(ILogger logger, Exception exception, string path);

    // Abuse limits use 71-79.
    [LoggerMessage(EventId = 71, Level = LogLevel.Warning, Message = "Slow consumer {Device} closed with {Frames} frames / {QueuedBytes} bytes queued (peak {PeakBytes} bytes)")]
    public static partial void SlowConsumer(ILogger logger, string device, int frames, long queuedBytes, long peakBytes);

    [LoggerMessage(EventId = 72, Level = LogLevel.Debug, Message = "Rate limited {Device}: {Type} (retry after {RetryAfterMs} ms)")]
    public static partial void RateLimited(ILogger logger, string device, string type, long retryAfterMs);

    [LoggerMessage(EventId = 73, Level = LogLevel.Error, Message = "A push lane failed to push a frame")]
    public static partial void PushFailed(ILogger logger, Exception exception);
}
