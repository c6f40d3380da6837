using System.Diagnostics.Metrics;
using Messaging.Hosting.Telemetry;

namespace Messaging.Router.Routing;

/// <summary>
/// The Router's instruments (meter <c>Messaging.Router</c>, exported by OpenTelemetry on
/// <c>/metrics</c>): commands, events, delivery records and parked commands as counters read from
/// the totals (tests and the throughput measurement read the same totals), batch size and decide
/// time per batch as histograms. Commands per second is <c>rate(messaging_router_commands_total)</c>.
/// </summary>
public sealed class RouterMetrics : IDisposable
{
    public const string MeterName = MessagingTelemetry.Prefix + "Router";

    /// <summary>Batch sizes up to <c>Router:MaxBatch</c> (2,000 by default).</summary>
    private static readonly IReadOnlyList<int> BatchBuckets = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000];

    /// <summary>Seconds per batch: a batch of one decides in well under a millisecond, a full one in tens.</summary>
    private static readonly IReadOnlyList<double> DecideBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

    private readonly Meter _meter;
    private readonly Histogram<int> _batchSize;
    private readonly Histogram<double> _decideSeconds;
    private long _commands;
    private long _events;
    private long _deliveries;
    private long _parked;
    private long _deviceCommands;

    public RouterMetrics(IMeterFactory meters)
    {
        _meter = meters.Create(MeterName);
        _meter.CreateObservableCounter("messaging.router.commands", () => TotalCommands, "{command}", "Chat commands consumed");
        _meter.CreateObservableCounter("messaging.router.events", () => Volatile.Read(ref _events), "{event}", "Events appended to chat.events");
        _meter.CreateObservableCounter("messaging.router.deliveries", () => TotalDeliveries, "{record}", "Records produced to delivery.node-k (routed events and replies)");
        _meter.CreateObservableCounter("messaging.router.parked", () => Volatile.Read(ref _parked), "{command}", "Commands parked on the dead-letter topic");
        _meter.CreateObservableCounter("messaging.router.device_commands", () => Volatile.Read(ref _deviceCommands), "{command}", "Device commands consumed from user.commands");
        _batchSize = _meter.CreateHistogram("messaging.router.batch.size", "{command}", "Chat commands per batch", advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = BatchBuckets });
        _decideSeconds = _meter.CreateHistogram("messaging.router.batch.duration", "s", "Time to decide and produce one batch (with its flush, when it flushes)", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DecideBuckets });
    }

    public long TotalCommands => Volatile.Read(ref _commands);

    public long TotalDeliveries => Volatile.Read(ref _deliveries);

    /// <summary>One batch of the chat loop (a few atomic adds per batch, not per command).</summary>
    public void Record(BatchOutcome outcome, TimeSpan elapsed)
    {
        Interlocked.Add(ref _commands, outcome.Commands);
        Interlocked.Add(ref _events, outcome.Events);
        Interlocked.Add(ref _deliveries, outcome.Deliveries + outcome.Replies);
        Interlocked.Add(ref _parked, outcome.Parked);
        if (outcome.Commands > 0)
        {
            _batchSize.Record(outcome.Commands);
            _decideSeconds.Record(elapsed.TotalSeconds);
        }
    }

    /// <summary>One batch of the device loop.</summary>
    public void RecordDevices(int commands) => Interlocked.Add(ref _deviceCommands, commands);

    public void Dispose() => _meter.Dispose();
}
