using HdrHistogram;

namespace Messaging.Bench.Metrics;

/// <summary>
/// Latencies (microseconds here) in an HdrHistogram <see cref="LongConcurrentHistogram"/>: every
/// value is known to within 1/128 (0.8 %) of itself (two significant digits; three would cost
/// 376 KB per histogram, and a bench run holds 320 of them), recording is wait-free, so thousands
/// of receive loops share one. This wrapper adds the exact minimum and maximum (the bench reports
/// the true worst case, not its bucket) and clamps values above the trackable range instead of
/// throwing. Until 2026-11-26 the bench had its own HDR-style histogram, written when HdrHistogram
/// was not in the package registry here.
/// </summary>
public sealed class LatencyHistogram
{
    /// <summary>Two significant digits: the percentiles the bench prints have two decimals in milliseconds.</summary>
    private const int SignificantDigits = 2;

    private readonly LongConcurrentHistogram _histogram;
    private long _min = long.MaxValue;
    private long _max;

    /// <param name="highestTrackableValue">Values above this are recorded as this value (and still counted).</param>
    public LatencyHistogram(long highestTrackableValue = 3_600_000_000)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(highestTrackableValue, 2);
        HighestTrackableValue = highestTrackableValue;
        _histogram = new LongConcurrentHistogram(1, highestTrackableValue, SignificantDigits);
    }

    public long HighestTrackableValue { get; }

    public long TotalCount => _histogram.TotalCount;

    /// <summary>The smallest recorded value, exact; 0 when empty.</summary>
    public long Min => TotalCount == 0 ? 0 : Volatile.Read(ref _min);

    /// <summary>The largest recorded value, exact (before clamping to the trackable range).</summary>
    public long Max => Volatile.Read(ref _max);

    public void Record(long value)
    {
        if (value < 0)
        {
            value = 0;
        }

        _histogram.RecordValue(Math.Min(value, HighestTrackableValue));
        UpdateMin(value);
        UpdateMax(value);
    }

    /// <summary>Adds every count of <paramref name="other"/> (same trackable range) to this one.</summary>
    public void Add(LatencyHistogram other)
    {
        if (other.HighestTrackableValue != HighestTrackableValue)
        {
            throw new ArgumentException("Histograms must share the highest trackable value.", nameof(other));
        }

        _histogram.Add(other._histogram);
        if (other.TotalCount > 0)
        {
            UpdateMin(other.Min);
            UpdateMax(other.Max);
        }
    }

    public void Reset()
    {
        _histogram.Reset();
        Volatile.Write(ref _min, long.MaxValue);
        Volatile.Write(ref _max, 0);
    }

    /// <summary>The value at <paramref name="percentile"/> (0..100), clamped to the exact min and max; 0 when empty.</summary>
    public long ValueAtPercentile(double percentile)
    {
        if (TotalCount == 0)
        {
            return 0;
        }

        return Math.Clamp(_histogram.GetValueAtPercentile(Math.Clamp(percentile, 0, 100)), Min, Max);
    }

    private void UpdateMin(long value)
    {
        var current = Volatile.Read(ref _min);
        while (value < current)
        {
            var seen = Interlocked.CompareExchange(ref _min, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    private void UpdateMax(long value)
    {
        var current = Volatile.Read(ref _max);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref _max, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}
