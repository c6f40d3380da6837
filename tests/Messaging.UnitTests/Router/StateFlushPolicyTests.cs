using Messaging.Router.Routing;

namespace Messaging.UnitTests.Router;

public sealed class StateFlushPolicyTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);

    [Fact]
    public void Without_an_interval_every_batch_is_flushed()
    {
        StateFlushPolicy.IsDue(revoking: false, hasUnflushed: false, hasBatch: true, TimeSpan.Zero, TimeSpan.Zero).Should().BeTrue();
    }

    [Fact]
    public void Within_the_interval_a_batch_is_not_flushed()
    {
        StateFlushPolicy.IsDue(revoking: false, hasUnflushed: true, hasBatch: true, TimeSpan.FromMilliseconds(499), Interval).Should().BeFalse();
    }

    [Fact]
    public void Once_the_interval_passed_unflushed_work_is_flushed_even_without_a_new_batch()
    {
        StateFlushPolicy.IsDue(revoking: false, hasUnflushed: true, hasBatch: false, Interval, Interval).Should().BeTrue();
    }

    [Fact]
    public void A_revocation_flushes_at_once()
    {
        StateFlushPolicy.IsDue(revoking: true, hasUnflushed: true, hasBatch: false, TimeSpan.Zero, Interval).Should().BeTrue();
    }

    [Fact]
    public void Nothing_to_flush_is_never_due()
    {
        StateFlushPolicy.IsDue(revoking: true, hasUnflushed: false, hasBatch: false, TimeSpan.FromHours(1), Interval).Should().BeFalse();
    }
}
