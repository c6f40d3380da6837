using Messaging.Bench.Load;

namespace Messaging.UnitTests.Bench;

public sealed class LoadOptionsTests
{
    [Fact]
    public void A_first_warmup_lengthens_only_the_first_steps_warmup()
    {
        var options = new LoadOptions { Edges = [], Warmup = TimeSpan.FromSeconds(5), FirstWarmup = TimeSpan.FromSeconds(60) };

        options.WarmupFor(1).Should().Be(TimeSpan.FromSeconds(60));
        options.WarmupFor(2).Should().Be(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void Without_a_first_warmup_every_step_warms_up_alike()
    {
        var options = new LoadOptions { Edges = [], Warmup = TimeSpan.FromSeconds(5) };

        options.WarmupFor(1).Should().Be(TimeSpan.FromSeconds(5));
        options.WarmupFor(3).Should().Be(TimeSpan.FromSeconds(5));
    }
}
