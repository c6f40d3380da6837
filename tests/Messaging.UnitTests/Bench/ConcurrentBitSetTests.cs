using Messaging.Bench.Load;

namespace Messaging.UnitTests.Bench;

public sealed class ConcurrentBitSetTests
{
    [Fact]
    public void Setting_a_bit_twice_reports_the_second_time_as_already_set()
    {
        var bits = new ConcurrentBitSet(10_000);

        bits.TrySet(9_999).Should().BeTrue();
        bits.TrySet(9_999).Should().BeFalse();
        bits.Contains(9_999).Should().BeTrue();
        bits.Contains(9_998).Should().BeFalse();
    }

    [Fact]
    public void Concurrent_setters_each_win_every_bit_exactly_once()
    {
        var bits = new ConcurrentBitSet(100_000);
        var wins = 0;

        Parallel.For(0, 4, _ =>
        {
            for (var i = 0; i < 100_000; i++)
            {
                if (bits.TrySet(i))
                {
                    Interlocked.Increment(ref wins);
                }
            }
        });

        wins.Should().Be(100_000);
    }

    [Fact]
    public void Indices_beyond_the_capacity_are_refused()
    {
        var bits = new ConcurrentBitSet(64);

        var set = () => bits.TrySet(64);

        set.Should().Throw<ArgumentOutOfRangeException>();
        bits.Contains(64).Should().BeFalse();
    }
}
