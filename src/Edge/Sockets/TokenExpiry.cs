using Messaging.Contracts.Protocol;

namespace Messaging.Edge.Sockets;

/// <summary>
/// Ends a socket when its token expires: an <c>error token_expired</c> frame, then close 4001
/// with reason <c>token_expired</c>; the client reconnects with a fresh token. One timer per
/// connection on the runtime's timer queue (no thread, a small object, nothing runs until it is
/// due), so 10k idle sockets cost ~10k queue entries and no periodic work. The expiry is the
/// token's <c>exp</c> plus <c>Auth:ClockSkewSeconds</c>: the same instant JwtBearer would start
/// refusing it.
/// </summary>
internal sealed class TokenExpiry : IDisposable
{
    /// <summary>Timers take at most ~49 days; a longer-lived token is re-armed when this passes.</summary>
    private static readonly TimeSpan LongestWait = TimeSpan.FromDays(30);

    private readonly Connection _connection;
    private readonly DateTimeOffset _closeAt;
    private readonly TimeProvider _clock;
    private readonly ITimer _timer;

    public TokenExpiry(Connection connection, DateTimeOffset closeAt, TimeProvider clock)
    {
        _connection = connection;
        _closeAt = closeAt;
        _clock = clock;
        _timer = clock.CreateTimer(static state => ((TokenExpiry)state!).Fire(), this, Wait(), Timeout.InfiniteTimeSpan);
    }

    private TimeSpan Wait()
    {
        var left = _closeAt - _clock.GetUtcNow();
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

        _connection.TryPush(new ErrorFrame(null, ErrorCodes.TokenExpired, "the token expired; reconnect with a new one"));
        _connection.Close(CloseCodes.Unauthorized, ErrorCodes.TokenExpired);
    }

    public void Dispose() => _timer.Dispose();
}
