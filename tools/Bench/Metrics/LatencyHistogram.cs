using System.Numerics;

namespace Messaging.Bench.Metrics;

/// <summary>
/// An HDR-style histogram of non-negative values (microseconds here): exact below
/// 2 × <see cref="SubBucketCount"/>, then log-bucketed with <see cref="SubBucketCount"/> linear
/// sub-buckets per power of two, so every recorded value is known to within 1/256 (0.4 %) of
/// itself. HdrHistogram is not in the package registry here, and the bench only needs record,
/// merge and percentile. <see cref="Record"/> is lock-free: thousands of receive loops share one.
/// </summary>
public sealed class LatencyHistogram
{
    /// <summary>Linear sub-buckets per power of two: 2^8 keeps the bucket width under 0.4 % of the value.</summary>
    public const int SubBucketBits = 8;

    public const int SubBucketCount = 1 << SubBucketBits;

    private const int ExactRange = SubBucketCount * 2;

    private readonly long[] _counts;
    private long _totalCount;
    private long _min = long.MaxValue;
    private long _max;

    /// <param name="highestTrackableValue">Values above this are recorded as this value (and still counted).</param>
    public LatencyHistogram(long highestTrackableValue = 3_600_000_000)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(highestTrackableValue, ExactRange);
        HighestTrackableValue = highestTrackableValue;
        _counts = new long[BucketIndex(highestTrackableValue) + 1];
    }

    public long HighestTrackableValue { get; }

    public long TotalCount => Volatile.Read(ref _totalCount);

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

        var clamped = Math.Min(value, HighestTrackableValue);
        Interlocked.Increment(ref _counts[BucketIndex(clamped)]);
        Interlocked.Increment(ref _totalCount);
        UpdateMin(value);
        UpdateMax(value);
    }

    /// <summary>Adds every count of <paramref name="other"/> (same trackable range) to this one.</summary>
    public void Add(LatencyHistogram other)
    {
        if (other._counts.Length != _counts.Length)
        {
            throw new ArgumentException("Histograms must share the highest trackable value.", nameof(other));
        }

        for (var i = 0; i < _counts.Length; i++)
        {
            var count = Volatile.Read(ref other._counts[i]);
            if (count != 0)
            {
                Interlocked.Add(ref _counts[i], count);
            }
        }

        Interlocked.Add(ref _totalCount, other.TotalCount);
        if (other.TotalCount > 0)
        {
            UpdateMin(other.Min);
            UpdateMax(other.Max);
        }
    }

    public void Reset()
    {
        Array.Clear(_counts);
        Volatile.Write(ref _totalCount, 0);
        Volatile.Write(ref _min, long.MaxValue);
        Volatile.Write(ref _max, 0);
    }

    /// <summary>
    /// The value at <paramref name="percentile"/> (0..100): the middle of the bucket holding the
    /// rank-th smallest value, clamped to the exact min and max. 0 when empty.
    /// </summary>
    public long ValueAtPercentile(double percentile)
    {
        var total = TotalCount;
        if (total == 0)
        {
            return 0;
        }

        var clampedPercentile = Math.Clamp(percentile, 0, 100);
        var rank = Math.Max(1, (long)Math.Ceiling(clampedPercentile / 100.0 * total));
        long seen = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            seen += Volatile.Read(ref _counts[i]);
            if (seen >= rank)
            {
                var (low, high) = BucketRange(i);
                return Math.Clamp(low + ((high - low) / 2), Min, Max);
            }
        }

        return Max;
    }

    /// <summary>The bucket of a value: identity below the exact range, then (power of two, top 8 bits).</summary>
    internal static int BucketIndex(long value)
    {
        if (value < ExactRange)
        {
            return (int)value;
        }

        var highestBit = 63 - BitOperations.LeadingZeroCount((ulong)value);
        var shift = highestBit - SubBucketBits;
        var subBucket = (int)(value >> shift);
        return ExactRange + ((shift - 1) * SubBucketCount) + (subBucket - SubBucketCount);
    }

    /// <summary>The inclusive range of values that map to bucket <paramref name="index"/>.</summary>
    internal static (long Low, long High) BucketRange(int index)
    {
        if (index < ExactRange)
        {
            return (index, index);
        }

        var offset = index - ExactRange;
        var shift = (offset / SubBucketCount) + 1;
        var subBucket = (long)((offset % SubBucketCount) + SubBucketCount);
        var low = subBucket << shift;
        return (low, low + (1L << shift) - 1);
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
