using Messaging.Edge.Sockets;
using Microsoft.Extensions.Time.Testing;

namespace Messaging.UnitTests.Edge;

public sealed class TokenExpiryTests
{
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));

    [Fact]
    public void It_fires_once_when_the_expiry_passes_and_not_before()
    {
        var fired = 0;
        using var expiry = new TokenExpiry(_clock.GetUtcNow().AddMinutes(5), _clock, () => fired++);
        _clock.Advance(TimeSpan.FromMinutes(5) - TimeSpan.FromMilliseconds(1));
        fired.Should().Be(0);
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        fired.Should().Be(1);
        _clock.Advance(TimeSpan.FromDays(1));
        fired.Should().Be(1);
    }

    [Fact]
    public void An_already_expired_token_fires_at_once()
    {
        var fired = 0;
        using var expiry = new TokenExpiry(_clock.GetUtcNow().AddSeconds(-1), _clock, () => fired++);
        _clock.Advance(TimeSpan.Zero);
        fired.Should().Be(1);
    }

    [Fact]
    public void A_token_valid_longer_than_a_timer_can_wait_fires_at_its_expiry()
    {
        var fired = 0;
        using var expiry = new TokenExpiry(_clock.GetUtcNow().AddDays(100), _clock, () => fired++);
        _clock.Advance(TokenExpiry.LongestWait);
        _clock.Advance(TokenExpiry.LongestWait);
        _clock.Advance(TokenExpiry.LongestWait);
        fired.Should().Be(0, "90 of 100 days passed");
        _clock.Advance(TimeSpan.FromDays(10));
        fired.Should().Be(1);
    }

    [Fact]
    public void A_disposed_expiry_never_fires()
    {
        var fired = 0;
        var expiry = new TokenExpiry(_clock.GetUtcNow().AddMinutes(1), _clock, () => fired++);
        expiry.Dispose();
        _clock.Advance(TimeSpan.FromMinutes(2));
        fired.Should().Be(0);
    }
}
