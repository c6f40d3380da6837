using FsCheck;
using FsCheck.Xunit;
using Messaging.Bench.Metrics;

namespace Messaging.UnitTests.Bench;

public sealed class LatencyHistogramTests
{
    [Theory]
    [InlineData(50)]
    [InlineData(90)]
    [InlineData(95)]
    [InlineData(99)]
    [InlineData(99.9)]
    public void Percentiles_of_log_normal_latencies_are_within_one_percent_of_the_exact_value(double percentile)
    {
        // Latencies in microseconds from about 100 us to several seconds: a long tail like a real run.
        var random = new Random(42);
        var values = new long[200_000];
        var histogram = new LatencyHistogram();
        for (var i = 0; i < values.Length; i++)
        {
            var normal = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            values[i] = (long)Math.Exp(8 + (2 * normal));
            histogram.Record(values[i]);
        }

        Array.Sort(values);
        var exact = values[(int)Math.Ceiling(percentile / 100 * values.Length) - 1];

        histogram.ValueAtPercentile(percentile).Should().BeCloseTo(exact, (ulong)Math.Max(1, exact / 100));
    }

    [Fact]
    public void Percentiles_of_uniform_values_are_within_one_percent_across_the_range()
    {
        var random = new Random(7);
        var values = new long[100_000];
        var histogram = new LatencyHistogram();
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = random.NextInt64(1, 5_000_000);
            histogram.Record(values[i]);
        }

        Array.Sort(values);
        for (var percentile = 1.0; percentile <= 100; percentile += 1)
        {
            var exact = values[(int)Math.Ceiling(percentile / 100 * values.Length) - 1];
            histogram.ValueAtPercentile(percentile).Should().BeCloseTo(exact, (ulong)Math.Max(1, exact / 100), $"p{percentile}");
        }
    }

    [Fact]
    public void Small_values_are_exact()
    {
        var histogram = new LatencyHistogram();
        for (var value = 0; value < 512; value++)
        {
            histogram.Record(value);
        }

        histogram.ValueAtPercentile(50).Should().Be(255);
        histogram.Min.Should().Be(0);
        histogram.Max.Should().Be(511);
        histogram.TotalCount.Should().Be(512);
    }

    [Fact]
    public void Max_and_min_are_the_exact_recorded_extremes()
    {
        var histogram = new LatencyHistogram();
        histogram.Record(1_234_567);
        histogram.Record(987);

        histogram.Max.Should().Be(1_234_567);
        histogram.Min.Should().Be(987);
        histogram.ValueAtPercentile(100).Should().Be(1_234_567);
    }

    /// <summary>The bucket precision HdrHistogram gives with two significant digits, for any values (FsCheck).</summary>
    [Property(MaxTest = 200)]
    public bool Any_percentile_of_any_values_is_within_one_percent_of_the_exact_value(PositiveInt[] raw, byte percentileByte)
    {
        if (raw.Length == 0)
        {
            return true;
        }

        var values = raw.Select(v => (long)v.Get * 1_000).Order().ToArray();
        var histogram = new LatencyHistogram();
        foreach (var value in values)
        {
            histogram.Record(value);
        }

        var percentile = Math.Max(1, percentileByte % 101);
        // HdrHistogram's rank: the count at the percentile rounded to the nearest whole value (at least 1).
        var rank = Math.Max(1, (int)((percentile / 100.0 * values.Length) + 0.5));
        var exact = values[rank - 1];
        return Math.Abs(histogram.ValueAtPercentile(percentile) - exact) <= Math.Max(1, exact / 100);
    }

    [Fact]
    public void Adding_histograms_gives_the_percentiles_of_the_union()
    {
        var low = new LatencyHistogram();
        var high = new LatencyHistogram();
        for (var i = 1; i <= 1000; i++)
        {
            low.Record(i);
            high.Record(i + 1000);
        }

        low.Add(high);

        low.TotalCount.Should().Be(2000);
        low.ValueAtPercentile(50).Should().BeCloseTo(1000, 10);
        low.Max.Should().Be(2000);
        low.Min.Should().Be(1);
    }

    [Fact]
    public void Concurrent_records_are_all_counted()
    {
        var histogram = new LatencyHistogram();
        Parallel.For(0, 8, _ =>
        {
            for (var i = 0; i < 100_000; i++)
            {
                histogram.Record(i);
            }
        });

        histogram.TotalCount.Should().Be(800_000);
        histogram.Max.Should().Be(99_999);
    }

    [Fact]
    public void An_empty_histogram_reports_zero()
    {
        var histogram = new LatencyHistogram();

        histogram.ValueAtPercentile(99).Should().Be(0);
        histogram.Min.Should().Be(0);
        histogram.Max.Should().Be(0);
    }

    [Fact]
    public void Values_beyond_the_trackable_range_are_clamped_but_the_max_stays_exact()
    {
        var histogram = new LatencyHistogram(highestTrackableValue: 1_000_000);
        histogram.Record(5_000_000);

        histogram.TotalCount.Should().Be(1);
        histogram.Max.Should().Be(5_000_000);
    }
}
