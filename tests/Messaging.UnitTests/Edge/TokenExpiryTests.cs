using Messaging.Edge.Sockets;
using Microsoft.Extensions.Time.Testing;

namespace Messaging.UnitTests.Edge;

public sealed class TokenExpiryTests : IDisposable
{
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly TokenExpiries _expiries;

    public TokenExpiryTests() => _expiries = new TokenExpiries(_clock);

    public void Dispose() => _expiries.Dispose();

    [Fact]
    public void It_fires_once_when_the_expiry_passes_and_not_before()
    {
        var fired = 0;
        using var expiry = _expiries.Watch(_clock.GetUtcNow().AddMinutes(5), () => fired++);
        _clock.Advance(TimeSpan.FromMinutes(5) - TimeSpan.FromMilliseconds(1));
        fired.Should().Be(0);
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        fired.Should().Be(1);
        _clock.Advance(TimeSpan.FromDays(1));
        fired.Should().Be(1);
        _expiries.Pending.Should().Be(0);
    }

    [Fact]
    public void An_already_expired_token_fires_at_once()
    {
        var fired = 0;
        using var expiry = _expiries.Watch(_clock.GetUtcNow().AddSeconds(-1), () => fired++);
        _clock.Advance(TimeSpan.Zero);
        fired.Should().Be(1);
    }

    [Fact]
    public void A_token_valid_longer_than_a_timer_can_wait_fires_at_its_expiry()
    {
        var fired = 0;
        using var expiry = _expiries.Watch(_clock.GetUtcNow().AddDays(100), () => fired++);
        _clock.Advance(TokenExpiries.LongestWait);
        _clock.Advance(TokenExpiries.LongestWait);
        _clock.Advance(TokenExpiries.LongestWait);
        fired.Should().Be(0, "90 of 100 days passed");
        _clock.Advance(TimeSpan.FromDays(10));
        fired.Should().Be(1);
    }

    [Fact]
    public void A_disposed_expiry_never_fires_and_leaves_nothing_behind()
    {
        var fired = 0;
        var expiry = _expiries.Watch(_clock.GetUtcNow().AddMinutes(1), () => fired++);
        expiry.Dispose();
        _expiries.Pending.Should().Be(0);
        _clock.Advance(TimeSpan.FromMinutes(2));
        fired.Should().Be(0);
    }

    [Fact]
    public void Many_expiries_on_the_one_timer_each_fire_once_at_their_own_time_in_order()
    {
        var fired = new List<int>();
        var handles = new List<TokenExpiry>();

        // Added out of order, two at the same instant, and an earlier one after the timer was armed for a later one.
        int[] minutes = [30, 10, 20, 10, 40];
        for (var i = 0; i < minutes.Length; i++)
        {
            var n = i;
            handles.Add(_expiries.Watch(_clock.GetUtcNow().AddMinutes(minutes[i]), () => fired.Add(n)));
        }

        handles.Add(_expiries.Watch(_clock.GetUtcNow().AddMinutes(5), () => fired.Add(5)));
        handles[2].Dispose();

        _clock.Advance(TimeSpan.FromMinutes(5));
        fired.Should().Equal(5);
        _clock.Advance(TimeSpan.FromMinutes(5));
        fired.Should().Equal(5, 1, 3);
        _clock.Advance(TimeSpan.FromMinutes(25));
        fired.Should().Equal(5, 1, 3, 0);
        _clock.Advance(TimeSpan.FromMinutes(10));
        fired.Should().Equal(5, 1, 3, 0, 4);
        _expiries.Pending.Should().Be(0);
        foreach (var handle in handles)
        {
            handle.Dispose();
        }
    }

    [Fact]
    public void Disposing_the_earliest_lets_the_next_fire_at_its_own_time()
    {
        var fired = new List<string>();
        var first = _expiries.Watch(_clock.GetUtcNow().AddMinutes(1), () => fired.Add("first"));
        using var second = _expiries.Watch(_clock.GetUtcNow().AddMinutes(3), () => fired.Add("second"));
        first.Dispose();

        _clock.Advance(TimeSpan.FromMinutes(2));
        fired.Should().BeEmpty();
        _clock.Advance(TimeSpan.FromMinutes(1));
        fired.Should().Equal("second");
    }
}
