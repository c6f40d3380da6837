using System.Collections.Concurrent;
using Messaging.Contracts.Protocol;
using Messaging.Edge.Sockets;
using Microsoft.Extensions.Options;

namespace Messaging.Edge.Presence;

/// <summary>
/// Who watches whom on this node (user → local connections, connection → users) and the pushes
/// of <c>presence.changed</c>. A change is evaluated when a session record of a watched user
/// arrives, and every <c>Edge:PresenceSweepSeconds</c> for watched users who are online, because
/// an expired lease produces no record. A watched user's last published state is kept, so
/// watchers hear transitions only (first device online, last device offline), not lease renewals.
/// <para>
/// One lock orders every snapshot reply and push: a watcher always gets its snapshot before any
/// change after it, and one user's changes in the order they were evaluated. Under it there are
/// only dictionary lookups and non-blocking enqueues (the bounded send queue is the
/// backpressure: a watcher that does not read is closed like any slow consumer).
/// </para>
/// </summary>
internal sealed class PresenceWatches : BackgroundService
{
    private readonly object _gate = new();

    // Mutated under _gate; concurrent so the session reader can skip unwatched users without it.
    private readonly ConcurrentDictionary<string, Watched> _byUser = new(StringComparer.Ordinal);
    private readonly Dictionary<Connection, HashSet<string>> _byConnection = [];
    private readonly PresenceDirectory _directory;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly int _max;
    private readonly TimeSpan _sweep;

    public PresenceWatches(PresenceDirectory directory, TimeProvider clock, IOptions<EdgeOptions> options, ILogger<PresenceWatches> logger)
    {
        _directory = directory;
        _clock = clock;
        _logger = logger;
        _max = options.Value.MaxPresenceWatches;
        _sweep = options.Value.PresenceSweep;
        _directory.UserChanged += OnUserChanged;
    }

    /// <summary>Users watched on this node (tests and metrics).</summary>
    public int WatchedUsers => _byUser.Count;

    /// <summary>Whether watching <paramref name="userIds"/> would keep the connection within <c>Edge:MaxPresenceWatches</c>.</summary>
    public bool Fits(Connection connection, IReadOnlyCollection<string> userIds)
    {
        lock (_gate)
        {
            return Fits(_byConnection.GetValueOrDefault(connection), userIds);
        }
    }

    /// <summary>
    /// Adds the watches and queues the <c>presence</c> snapshot reply; false (nothing added) when
    /// the connection would exceed <c>Edge:MaxPresenceWatches</c>.
    /// </summary>
    public bool Watch(Connection connection, IReadOnlyCollection<string> userIds, string? requestId)
    {
        lock (_gate)
        {
            _byConnection.TryGetValue(connection, out var mine);
            if (!Fits(mine, userIds))
            {
                return false;
            }

            // A connection that is closing has been (or is about to be) forgotten: do not index it again.
            if (connection.IsClosing)
            {
                return true;
            }

            if (mine is null)
            {
                mine = new HashSet<string>(StringComparer.Ordinal);
                _byConnection[connection] = mine;
            }

            var now = _clock.GetUtcNow();
            var users = new List<UserPresence>(userIds.Count);
            foreach (var userId in userIds)
            {
                var snapshot = _directory.Snapshot(userId, now);
                if (!_byUser.TryGetValue(userId, out var watched))
                {
                    watched = new Watched(snapshot.Online);
                    _byUser[userId] = watched;
                }
                else if (watched.Online != snapshot.Online)
                {
                    // The sweep has not run yet: tell the existing watchers before this one joins.
                    Publish(userId, watched, snapshot);
                }

                watched.Watchers.Add(connection);
                mine.Add(userId);
                users.Add(snapshot);
            }

            connection.TryPush(new PresenceFrame { Id = requestId, Users = users });
            return true;
        }
    }

    public void Unwatch(Connection connection, IEnumerable<string> userIds)
    {
        lock (_gate)
        {
            if (!_byConnection.TryGetValue(connection, out var mine))
            {
                return;
            }

            foreach (var userId in userIds)
            {
                if (mine.Remove(userId))
                {
                    Drop(userId, connection);
                }
            }

            if (mine.Count == 0)
            {
                _byConnection.Remove(connection);
            }
        }
    }

    /// <summary>Drops every watch of a connection that ended.</summary>
    public void Forget(Connection connection)
    {
        lock (_gate)
        {
            if (_byConnection.Remove(connection, out var mine))
            {
                foreach (var userId in mine)
                {
                    Drop(userId, connection);
                }
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_sweep, _clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                Sweep();
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                EdgeLog.PresenceFailed(_logger, ex, "sweep");
            }
        }
    }

    /// <summary>Re-evaluates watched users who are online; one lock round per user keeps pushes flowing meanwhile.</summary>
    internal void Sweep()
    {
        foreach (var (userId, watched) in _byUser)
        {
            if (!Volatile.Read(ref watched.Online))
            {
                continue;
            }

            lock (_gate)
            {
                if (_byUser.TryGetValue(userId, out var current) && ReferenceEquals(current, watched))
                {
                    Evaluate(userId, watched, _clock.GetUtcNow());
                }
            }
        }
    }

    private void OnUserChanged(string userId)
    {
        if (!_byUser.ContainsKey(userId))
        {
            return;
        }

        try
        {
            lock (_gate)
            {
                if (_byUser.TryGetValue(userId, out var watched))
                {
                    Evaluate(userId, watched, _clock.GetUtcNow());
                }
            }
        }
        catch (Exception ex)
        {
            // Runs on the session table's reader thread: an exception here would stop the table.
            EdgeLog.PresenceFailed(_logger, ex, "change of " + userId);
        }
    }

    private void Evaluate(string userId, Watched watched, DateTimeOffset now)
    {
        var snapshot = _directory.Snapshot(userId, now);
        if (snapshot.Online != watched.Online)
        {
            Publish(userId, watched, snapshot);
        }
    }

    private static void Publish(string userId, Watched watched, UserPresence snapshot)
    {
        Volatile.Write(ref watched.Online, snapshot.Online);
        if (watched.Watchers.Count == 0)
        {
            return;
        }

        // Encoded once for every watcher on this node.
        var frame = SharedFrame.Encode(new PresenceChangedFrame { UserId = userId, Online = snapshot.Online, LastSeen = snapshot.LastSeen });
        try
        {
            foreach (var watcher in watched.Watchers)
            {
                watcher.TryPush(frame);
            }
        }
        finally
        {
            frame.Release();
        }
    }

    private bool Fits(HashSet<string>? mine, IReadOnlyCollection<string> userIds)
    {
        var total = mine?.Count ?? 0;
        foreach (var userId in userIds)
        {
            if (mine is null || !mine.Contains(userId))
            {
                total++;
            }
        }

        return total <= _max;
    }

    private void Drop(string userId, Connection connection)
    {
        if (_byUser.TryGetValue(userId, out var watched) && watched.Watchers.Remove(connection) && watched.Watchers.Count == 0)
        {
            _byUser.TryRemove(userId, out _);
        }
    }

    private sealed class Watched(bool online)
    {
        /// <summary>The state watchers were last told (written under the gate, read by the sweep without it).</summary>
        public bool Online = online;

        public HashSet<Connection> Watchers { get; } = [];
    }
}
