using System.Collections.Concurrent;
using Messaging.Contracts;
using Messaging.Contracts.Devices;
using Messaging.Contracts.Protocol;
using Messaging.Contracts.Serialization;
using Messaging.Contracts.Topics;
using Messaging.Hosting;
using Messaging.Hosting.Kafka;
using Microsoft.Extensions.Options;

namespace Messaging.Edge.Presence;

/// <summary>
/// Every device session of the cluster, from the compacted <c>device.sessions</c> topic (key: the
/// device address <c>userId/deviceId</c>; read from the beginning at start, caught up before the
/// node serves, then tailed), indexed by user.
/// The topic keeps the latest record of every device that ever connected (Edge writes no
/// tombstones), so it alone answers "last seen": the PostgreSQL <c>presence</c> table holds the
/// same records and is not read.
/// </summary>
internal sealed class PresenceDirectory : IHostedService, IAsyncDisposable
{
    private readonly CompactedTopicTable<DeviceRecord> _sessions;
    private readonly NodeLeases _leases;

    // Written only on the table's reader thread; read by requests. Arrays are replaced, never
    // changed, so a reader always sees a whole list.
    private readonly ConcurrentDictionary<string, string[]> _addressesOfUser = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _userOfAddress = new(StringComparer.Ordinal);
    private int _disposed;

    public PresenceDirectory(KafkaClientFactory clients, TopicNames topics, IOptions<ClusterOptions> cluster, ILogger<PresenceDirectory> logger)
    {
        _leases = new NodeLeases(cluster.Value.EdgeNodes);
        _sessions = new CompactedTopicTable<DeviceRecord>(clients, topics.DeviceSessions, bytes => _leases.Read(Codecs.Devices.Decode(bytes).Value), logger);
        _sessions.Changed += OnSessionChanged;
    }

    /// <summary>Raised on the table's reader thread after a session of the user changed (must not block).</summary>
    public event Action<string>? UserChanged;

    /// <summary>Raised on the reader thread for every session record read (not for tombstones).</summary>
    public event Action<DeviceSessionChanged>? SessionChanged;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _sessions.Start();
        await _sessions.WaitCaughtUpAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public UserPresence Snapshot(string userId, DateTimeOffset now)
    {
        var addresses = _addressesOfUser.TryGetValue(userId, out var known) ? known : [];
        var sessions = new List<DeviceSessionChanged>(addresses.Length);
        foreach (var address in addresses)
        {
            if (_sessions.TryGet(address, out var record) && record is DeviceSessionChanged session)
            {
                sessions.Add(session);
            }
        }

        return PresenceRules.Aggregate(userId, sessions, _leases, now);
    }

    /// <summary>
    /// Adds the addresses of <paramref name="userId"/>'s devices online now to
    /// <paramref name="byNode"/>[k] of the node k they are on (receipts and typing, which Edge
    /// routes itself: docs/router.md, "Receipts and typing"). <paramref name="byNode"/> has a list
    /// per node of <c>Cluster:EdgeNodes</c> (<c>NodeRouting.Buckets</c>), the bound of every node id here.
    /// </summary>
    public void AddOnlineDevices(string userId, DateTimeOffset now, List<string>[] byNode)
    {
        if (!_addressesOfUser.TryGetValue(userId, out var addresses))
        {
            return;
        }

        foreach (var address in addresses)
        {
            if (_sessions.TryGet(address, out var record) && record is DeviceSessionChanged session && _leases.NodeOf(session, now) is var node and >= 0)
            {
                byNode[node].Add(address);
            }
        }
    }

    /// <summary>Whether any device of <paramref name="userId"/> is online now as far as this node has read.</summary>
    public bool AnyOnline(string userId, DateTimeOffset now)
    {
        if (!_addressesOfUser.TryGetValue(userId, out var addresses))
        {
            return false;
        }

        foreach (var address in addresses)
        {
            if (_sessions.TryGet(address, out var record) && record is DeviceSessionChanged session && _leases.NodeOf(session, now) >= 0)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Waits (bounded) until this node has read <c>device.sessions</c> up to its end as of now; false on timeout.</summary>
    public Task<bool> CatchUpAsync(TimeSpan timeout, CancellationToken cancellationToken) => _sessions.CatchUpAsync(timeout, cancellationToken);

    private void OnSessionChanged(string address, DeviceRecord? record)
    {
        // A node's lease renewal changes nobody's presence; one that ran out produces no record at
        // all, which is why watched online users are re-evaluated on a timer (PresenceWatches).
        if (record is EdgeNodeLeased)
        {
            return;
        }

        var session = record as DeviceSessionChanged;
        // A v1 record is keyed by a bare device id that cannot be attributed to its user: ignored
        // (docs/events.md, one-time migration), so it never shows as another user's device.
        if (DeviceRef.UserOf(address).IsEmpty)
        {
            return;
        }

        if (session is not null)
        {
            SessionChanged?.Invoke(session);
        }

        _userOfAddress.TryGetValue(address, out var previousUser);
        var user = session?.UserId;
        if (previousUser is not null && !string.Equals(previousUser, user, StringComparison.Ordinal))
        {
            // A tombstone (never written by Edge: the address names its user).
            Detach(previousUser, address);
            UserChanged?.Invoke(previousUser);
        }

        if (user is null)
        {
            _userOfAddress.TryRemove(address, out _);
            return;
        }

        if (previousUser is null || !string.Equals(previousUser, user, StringComparison.Ordinal))
        {
            _userOfAddress[address] = user;
            _addressesOfUser.AddOrUpdate(user, _ => [address], (_, known) => [.. known, address]);
        }

        UserChanged?.Invoke(user);
    }

    private void Detach(string userId, string address)
    {
        if (!_addressesOfUser.TryGetValue(userId, out var known))
        {
            return;
        }

        var left = known.Where(d => !string.Equals(d, address, StringComparison.Ordinal)).ToArray();
        if (left.Length == 0)
        {
            _addressesOfUser.TryRemove(userId, out _);
        }
        else
        {
            _addressesOfUser[userId] = left;
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Registered as a singleton and as a hosted service (same instance): disposed twice.
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _sessions.DisposeAsync();
    }
}
