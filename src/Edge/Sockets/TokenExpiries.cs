namespace Messaging.Edge.Sockets;

/// <summary>
/// Every connection's token expiry on one timer: runs each connection's action once when its token
/// expires (<see cref="SocketEndpoint"/> sends <c>error token_expired</c> and closes 4001). The
/// expiry is the token's <c>exp</c> plus <c>Auth:ClockSkewSeconds</c>: the instant JwtBearer would
/// start refusing the token.
/// Why one timer: a timer per connection made the runtime's timer queue walk every one of them
/// about three times a second (it keeps long timers in one unsorted list). With 10,240 idle sockets
/// per node, half of them these timers and half ManagedWebSocket's keep-alives, that walk was 15 %
/// of an Edge node's samples (docs/benchmarks.md, "twelfth session"). Here the expiries are kept
/// in order and the one timer is armed for the earliest: adding or removing one costs a log-time
/// set operation, and nothing runs until one is due.
/// </summary>
internal sealed class TokenExpiries : IDisposable
{
    /// <summary>Timers take at most ~49 days; for a longer wait the timer fires early and is re-armed.</summary>
    internal static readonly TimeSpan LongestWait = TimeSpan.FromDays(30);

    private readonly TimeProvider _clock;
    private readonly ITimer _timer;
    private readonly Lock _gate = new();
    private readonly SortedSet<TokenExpiry> _pending = new(TokenExpiry.ByDue);
    private long _armedForTicks = long.MaxValue;
    private long _lastId;

    public TokenExpiries(TimeProvider clock)
    {
        _clock = clock;
        _timer = clock.CreateTimer(static state => ((TokenExpiries)state!).Fire(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Expiries waiting (for the tests: a disposed one must not stay behind).</summary>
    public int Pending
    {
        get
        {
            lock (_gate)
            {
                return _pending.Count;
            }
        }
    }

    /// <summary>Runs <paramref name="expired"/> once at <paramref name="expiresAt"/>, unless the returned handle is disposed first.</summary>
    public TokenExpiry Watch(DateTimeOffset expiresAt, Action expired)
    {
        var expiry = new TokenExpiry(this, expiresAt.UtcTicks, Interlocked.Increment(ref _lastId), expired);
        lock (_gate)
        {
            _pending.Add(expiry);
            ArmLocked();
        }

        return expiry;
    }

    internal void Remove(TokenExpiry expiry)
    {
        // The timer stays armed: if this was the earliest, the timer finds nothing due and re-arms for the next.
        lock (_gate)
        {
            _pending.Remove(expiry);
        }
    }

    private void ArmLocked()
    {
        if (_pending.Min is not { } first || first.DueTicks >= _armedForTicks)
        {
            return;
        }

        var now = _clock.GetUtcNow().UtcTicks;
        var wait = TimeSpan.FromTicks(Math.Max(0, first.DueTicks - now));
        if (wait > LongestWait)
        {
            wait = LongestWait;
        }

        _armedForTicks = now + wait.Ticks;
        _timer.Change(wait, Timeout.InfiniteTimeSpan);
    }

    private void Fire()
    {
        List<TokenExpiry>? due = null;
        lock (_gate)
        {
            _armedForTicks = long.MaxValue;
            var now = _clock.GetUtcNow().UtcTicks;
            while (_pending.Min is { } first && first.DueTicks <= now)
            {
                _pending.Remove(first);
                (due ??= []).Add(first);
            }

            ArmLocked();
        }

        if (due is null)
        {
            return;
        }

        foreach (var expiry in due)
        {
            expiry.Expire();
        }
    }

    public void Dispose() => _timer.Dispose();
}
