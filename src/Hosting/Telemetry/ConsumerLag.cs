using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Confluent.Kafka;

namespace Messaging.Hosting.Telemetry;

/// <summary>
/// <c>messaging.kafka.consumer.lag</c>: records between each consumer's position and the end of
/// each partition it reads, per group, topic and partition. Each consumer loop owns a
/// <see cref="Probe"/> and calls <see cref="Probe.Observe{TKey, TValue}"/> after every poll; the
/// probe looks at most once per <see cref="Interval"/> and only at what the client already knows
/// (positions and the high watermarks of its last fetches: no request to the broker).
/// </summary>
public sealed class ConsumerLag : IDisposable
{
    public const string MeterName = MessagingTelemetry.Prefix + "Kafka";

    /// <summary>A scrape every few seconds needs no fresher value; the check costs a native call per partition.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private readonly Meter _meter;
    private readonly ConcurrentDictionary<string, Probe> _probes = new(StringComparer.Ordinal);

    public ConsumerLag(IMeterFactory meters)
    {
        _meter = meters.Create(MeterName);
        _meter.CreateObservableGauge("messaging.kafka.consumer.lag", Measure, unit: "{record}", description: "Records between the consumer's position and the partition's end");
    }

    /// <summary>The probe of one consumer loop, identified by <paramref name="group"/> (a group id, or a name for an assigned consumer).</summary>
    public Probe For(string group) => _probes.GetOrAdd(group, static g => new Probe(g));

    private IEnumerable<Measurement<long>> Measure()
    {
        foreach (var probe in _probes.Values)
        {
            foreach (var measurement in probe.Last)
            {
                yield return measurement;
            }
        }
    }

    public void Dispose() => _meter.Dispose();

    public sealed class Probe
    {
        private readonly string _group;
        private long _next;

        internal Probe(string group) => _group = group;

        internal Measurement<long>[] Last { get; private set; } = [];

        /// <summary>Samples the lag of every assigned partition, at most once per <see cref="Interval"/> (else one comparison).</summary>
        public void Observe<TKey, TValue>(IConsumer<TKey, TValue> consumer)
        {
            var now = Stopwatch.GetTimestamp();
            if (now < _next)
            {
                return;
            }

            _next = now + (long)(Interval.TotalSeconds * Stopwatch.Frequency);
            var assignment = consumer.Assignment;
            var measurements = new Measurement<long>[assignment.Count];
            var count = 0;
            foreach (var tp in assignment)
            {
                var position = consumer.Position(tp);
                var high = consumer.GetWatermarkOffsets(tp).High;
                if (position.IsSpecial || high.IsSpecial)
                {
                    continue;
                }

                measurements[count++] = new Measurement<long>(
                    Math.Max(0, high.Value - position.Value),
                    new KeyValuePair<string, object?>("group", _group),
                    new KeyValuePair<string, object?>("topic", tp.Topic),
                    new KeyValuePair<string, object?>("partition", tp.Partition.Value));
            }

            Last = count == measurements.Length ? measurements : measurements[..count];
        }

        /// <summary>The consumer closed: its partitions are someone else's to report.</summary>
        public void Clear() => Last = [];
    }
}
