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

    [Theory]
    [InlineData(true, false, false, FlushAction.Blocking)]
    [InlineData(false, true, false, FlushAction.Blocking)]
    [InlineData(false, false, true, FlushAction.Blocking)]
    [InlineData(false, false, false, FlushAction.None)]
    public void A_revocation_flushes_blocking_whatever_is_unflushed_or_in_flight(bool hasUnflushed, bool hasBatch, bool inFlight, FlushAction expected)
    {
        StateFlushPolicy.Next(revoking: true, hasUnflushed, hasBatch, inFlight, TimeSpan.Zero, Interval, pipelined: true).Should().Be(expected);
    }

    [Fact]
    public void With_pipelining_a_due_flush_begins_without_waiting_when_none_is_in_flight()
    {
        StateFlushPolicy.Next(revoking: false, hasUnflushed: true, hasBatch: true, inFlight: false, Interval, Interval, pipelined: true).Should().Be(FlushAction.Begin);
    }

    [Fact]
    public void With_pipelining_a_due_flush_waits_for_the_one_in_flight_which_is_only_moved_on()
    {
        StateFlushPolicy.Next(revoking: false, hasUnflushed: true, hasBatch: true, inFlight: true, Interval, Interval, pipelined: true).Should().Be(FlushAction.Advance);
        StateFlushPolicy.Next(revoking: false, hasUnflushed: false, hasBatch: false, inFlight: true, TimeSpan.Zero, Interval, pipelined: true).Should().Be(FlushAction.Advance);
    }

    [Fact]
    public void With_pipelining_nothing_happens_between_flushes()
    {
        StateFlushPolicy.Next(revoking: false, hasUnflushed: true, hasBatch: true, inFlight: false, TimeSpan.FromMilliseconds(499), Interval, pipelined: true).Should().Be(FlushAction.None);
    }

    [Fact]
    public void Without_pipelining_or_without_an_interval_a_due_flush_blocks()
    {
        StateFlushPolicy.Next(revoking: false, hasUnflushed: true, hasBatch: true, inFlight: false, Interval, Interval, pipelined: false).Should().Be(FlushAction.Blocking);
        StateFlushPolicy.Next(revoking: false, hasUnflushed: false, hasBatch: true, inFlight: false, TimeSpan.Zero, TimeSpan.Zero, pipelined: true).Should().Be(FlushAction.Blocking);
        StateFlushPolicy.Next(revoking: false, hasUnflushed: true, hasBatch: true, inFlight: false, TimeSpan.FromMilliseconds(499), Interval, pipelined: false).Should().Be(FlushAction.None);
    }
}
