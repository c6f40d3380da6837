namespace Messaging.Edge.Sockets;

/// <summary>One connection's place in <see cref="TokenExpiries"/>; disposing it takes it out.</summary>
internal sealed class TokenExpiry : IDisposable
{
    internal static readonly IComparer<TokenExpiry> ByDue = Comparer<TokenExpiry>.Create(static (a, b) =>
    {
        var byDue = a.DueTicks.CompareTo(b.DueTicks);
        return byDue != 0 ? byDue : a._id.CompareTo(b._id);
    });

    private readonly TokenExpiries _owner;
    private readonly long _id;
    private readonly Action _expired;
    private int _done;

    internal TokenExpiry(TokenExpiries owner, long dueTicks, long id, Action expired)
    {
        _owner = owner;
        DueTicks = dueTicks;
        _id = id;
        _expired = expired;
    }

    internal long DueTicks { get; }

    internal void Expire()
    {
        // A handle disposed while its expiry was being taken off the set must not run.
        if (Interlocked.Exchange(ref _done, 1) == 0)
        {
            _expired();
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _done, 1) == 0)
        {
            _owner.Remove(this);
        }
    }
}
