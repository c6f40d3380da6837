using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Messaging.Hosting.Telemetry;

namespace Messaging.Projections.Runtime;

/// <summary>
/// The projections' instruments (meter <c>Messaging.Projections</c>, exported by OpenTelemetry on
/// <c>/metrics</c>), per projection: records applied, parked and skipped and pages committed as
/// counters over the totals that <c>GET /v1/projections/status</c> also shows, owned partitions
/// as a gauge, page size and page time as histograms. Apply rate is
/// <c>rate(messaging_projections_applied_total)</c>; lag per partition is
/// <c>messaging_kafka_consumer_lag{group="projections.&lt;name&gt;"}</c>.
/// </summary>
internal sealed class ProjectionMetrics : IDisposable
{
    public const string MeterName = MessagingTelemetry.Prefix + "Projections";

    private static readonly IReadOnlyList<int> PageBuckets = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 20000];

    private static readonly IReadOnlyList<double> PageSecondBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly ConcurrentDictionary<string, Counters> _counters = new(StringComparer.Ordinal);
    private readonly Meter _meter;
    private readonly Histogram<int> _pageSize;
    private readonly Histogram<double> _pageSeconds;

    public ProjectionMetrics(IMeterFactory meters)
    {
        _meter = meters.Create(MeterName);
        _meter.CreateObservableCounter("messaging.projections.applied", () => Each(static c => Volatile.Read(ref c.Applied)), "{record}", "Records applied to the read models");
        _meter.CreateObservableCounter("messaging.projections.parked", () => Each(static c => Volatile.Read(ref c.DeadLettered)), "{record}", "Records parked in dead_letters");
        _meter.CreateObservableCounter("messaging.projections.skipped", () => Each(static c => Volatile.Read(ref c.Skipped)), "{record}", "Records this projection ignores");
        _meter.CreateObservableCounter("messaging.projections.pages", () => Each(static c => Volatile.Read(ref c.Pages)), "{page}", "Pages committed (one transaction each)");
        _meter.CreateObservableGauge("messaging.projections.partitions", () => Each(static c => (long)Volatile.Read(ref c.OwnedPartitions)), "{partition}", "Partitions this process owns");
        _pageSize = _meter.CreateHistogram("messaging.projections.page.size", "{record}", "Records per committed page", advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = PageBuckets });
        _pageSeconds = _meter.CreateHistogram("messaging.projections.page.duration", "s", "Time to apply and commit one page", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = PageSecondBuckets });
    }

    /// <summary>One committed page (per page, not per record: a few atomic adds).</summary>
    public void Applied(string projection, int applied, int deadLettered, int skipped, TimeSpan elapsed)
    {
        var c = _counters.GetOrAdd(projection, static _ => new Counters());
        Interlocked.Add(ref c.Applied, applied);
        Interlocked.Add(ref c.DeadLettered, deadLettered);
        Interlocked.Add(ref c.Skipped, skipped);
        Interlocked.Increment(ref c.Pages);
        var tag = new KeyValuePair<string, object?>("projection", projection);
        _pageSize.Record(applied + deadLettered + skipped, tag);
        _pageSeconds.Record(elapsed.TotalSeconds, tag);
    }

    /// <summary>How many partitions the runner owns right now (after each assignment or revocation).</summary>
    public void Owned(string projection, int partitions) =>
        Interlocked.Exchange(ref _counters.GetOrAdd(projection, static _ => new Counters()).OwnedPartitions, partitions);

    public IReadOnlyDictionary<string, Counters> Snapshot() => _counters;

    public void Dispose() => _meter.Dispose();

    private IEnumerable<Measurement<long>> Each(Func<Counters, long> read)
    {
        foreach (var (projection, counters) in _counters)
        {
            yield return new Measurement<long>(read(counters), new KeyValuePair<string, object?>("projection", projection));
        }
    }

    internal sealed class Counters
    {
        public long Applied;
        public long DeadLettered;
        public long Skipped;
        public long Pages;
        public int OwnedPartitions;
    }
}
