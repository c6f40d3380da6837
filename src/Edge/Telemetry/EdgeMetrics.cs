using System.Diagnostics.Metrics;
using Messaging.Contracts.Protocol;
using Messaging.Edge.Sockets;
using Messaging.Hosting.Telemetry;

namespace Messaging.Edge.Telemetry;

/// <summary>
/// An Edge node's instruments (meter <c>Messaging.Edge</c>, exported by OpenTelemetry on
/// <c>/metrics</c>). Tags are a frame's type name or an error code: strings the code already
/// holds, passed as a single tag (no allocation per frame). Connection and send-queue gauges are
/// read from the registry at scrape time, so the per-frame path pays nothing for them.
/// </summary>
internal sealed class EdgeMetrics : IDisposable
{
    public const string MeterName = MessagingTelemetry.Prefix + "Edge";

    /// <summary>Sync waits from a few milliseconds (caught up) to <c>Edge:SyncCatchUpMs</c> (5 s by default).</summary>
    private static readonly IReadOnlyList<double> SyncWaitBuckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly Meter _meter;
    private readonly Counter<long> _opened;
    private readonly Counter<long> _closed;
    private readonly FrameCounts _framesIn = new();
    private readonly FrameCounts _framesOut = new();
    private readonly Counter<long> _sendsAccepted;
    private readonly Counter<long> _refusals;
    private readonly Counter<long> _deliveries;
    private readonly Counter<long> _deliveryCopies;
    private readonly Counter<long> _slowConsumers;
    private readonly Counter<long> _rateLimited;
    private readonly Counter<long> _receiptRecords;
    private readonly Histogram<double> _syncWait;
    private readonly Counter<long> _partialSyncs;

    public EdgeMetrics(IMeterFactory meters, ConnectionRegistry registry)
    {
        _meter = meters.Create(MeterName);
        _meter.CreateObservableGauge("messaging.edge.connections", () => (long)registry.Count, "{connection}", "Open WebSockets on this node");
        _meter.CreateObservableGauge("messaging.edge.send_queue.frames", () => QueuedFrames(registry), "{frame}", "Frames waiting in all send queues of this node");
        _meter.CreateObservableGauge("messaging.edge.send_queue.bytes", () => QueuedBytes(registry), "By", "Bytes waiting in all send queues of this node");
        _opened = _meter.CreateCounter<long>("messaging.edge.connections.opened", "{connection}", "WebSockets that passed registration and session announcement");
        _closed = _meter.CreateCounter<long>("messaging.edge.connections.closed", "{connection}", "WebSockets closed, by close code");
        _meter.CreateObservableCounter("messaging.edge.frames.in", _framesIn.Observe, "{frame}", "Valid client frames within their rate limits, by type");
        _meter.CreateObservableCounter("messaging.edge.frames.out", _framesOut.Observe, "{frame}", "Frames written to sockets and SSE event streams, by type");
        _sendsAccepted = _meter.CreateCounter<long>("messaging.edge.sends.accepted", "{message}", "Messages durable in chat.commands and confirmed to the sender");
        _refusals = _meter.CreateCounter<long>("messaging.edge.refusals", "{frame}", "Error frames sent to clients (Edge's own refusals and the Router's), by code");
        _deliveries = _meter.CreateCounter<long>("messaging.edge.deliveries", "{record}", "Node delivery records pushed to at least one local socket");
        _deliveryCopies = _meter.CreateCounter<long>("messaging.edge.deliveries.pushed", "{frame}", "Delivery frames queued on local sockets (one per device)");
        _slowConsumers = _meter.CreateCounter<long>("messaging.edge.slow_consumer.closes", "{connection}", "Sockets closed because their send queue was full (4003)");
        _rateLimited = _meter.CreateCounter<long>("messaging.edge.rate_limited", "{request}", "Requests refused with rate_limited, by frame type (http: an HTTP 429)");
        _receiptRecords = _meter.CreateCounter<long>("messaging.edge.receipts.records", "{record}", "Receipt records produced by the receipts flush");
        _syncWait = _meter.CreateHistogram("messaging.edge.sync.wait", "s", "Time a sync waited for the read models to reach the log's end", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SyncWaitBuckets });
        _partialSyncs = _meter.CreateCounter<long>("messaging.edge.sync.partial", "{sync}", "Syncs that streamed a partial inbox (projections behind or unreachable)");
    }

    public void Opened() => _opened.Add(1);

    public void Closed(int code) => _closed.Add(1, new KeyValuePair<string, object?>("code", CloseCodeTag(code)));

    public void FrameIn(string type) => _framesIn.Increment(type);

    public void FrameOut(string type) => _framesOut.Increment(type);

    public void SendAccepted() => _sendsAccepted.Add(1);

    public void Refused(string code) => _refusals.Add(1, new KeyValuePair<string, object?>("code", code));

    public void Delivered(int copies)
    {
        _deliveries.Add(1);
        _deliveryCopies.Add(copies);
    }

    public void SlowConsumerClosed() => _slowConsumers.Add(1);

    public void RateLimited(string type) => _rateLimited.Add(1, new KeyValuePair<string, object?>("type", type));

    public void ReceiptRecords(int records) => _receiptRecords.Add(records);

    public void SyncWaited(TimeSpan waited, bool caughtUp)
    {
        _syncWait.Record(waited.TotalSeconds);
        if (!caughtUp)
        {
            _partialSyncs.Add(1);
        }
    }

    public void Dispose() => _meter.Dispose();

    /// <summary>Close codes as cached strings: a handful of distinct values, no formatting per close.</summary>
    private static string CloseCodeTag(int code) => code switch
    {
        0 or 1000 => "1000",
        1001 => "1001",
        1011 => "1011",
        CloseCodes.Unauthorized => "4001",
        CloseCodes.Replaced => "4002",
        CloseCodes.SlowConsumer => "4003",
        CloseCodes.TooManyDevices => "4004",
        CloseCodes.DeviceRemoved => "4005",
        _ => code.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    private static long QueuedFrames(ConnectionRegistry registry)
    {
        long frames = 0;
        foreach (var connection in registry.Connections)
        {
            frames += connection.Queue.Count;
        }

        return frames;
    }

    private static long QueuedBytes(ConnectionRegistry registry)
    {
        long bytes = 0;
        foreach (var connection in registry.Connections)
        {
            bytes += connection.Queue.QueuedBytes;
        }

        return bytes;
    }
}
