using System.Collections.Concurrent;
using Messaging.Contracts.Devices;
using Messaging.Contracts.Protocol;
using Messaging.Contracts.Serialization;
using Messaging.Contracts.Topics;
using Messaging.Hosting.Kafka;

namespace Messaging.Edge.Presence;

/// <summary>
/// Every device session of the cluster, from the compacted <c>device.sessions</c> topic (read
/// from the beginning at start, caught up before the node serves, then tailed), indexed by user.
/// The topic keeps the latest record of every device that ever connected (Edge writes no
/// tombstones), so it alone answers "last seen": the PostgreSQL <c>presence</c> table holds the
/// same records and is not read.
/// </summary>
internal sealed class PresenceDirectory : IHostedService, IAsyncDisposable
{
    private readonly CompactedTopicTable<DeviceSessionChanged> _sessions;

    // Written only on the table's reader thread; read by requests. Arrays are replaced, never
    // changed, so a reader always sees a whole list.
    private readonly ConcurrentDictionary<string, string[]> _devicesOfUser = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _userOfDevice = new(StringComparer.Ordinal);
    private int _disposed;

    public PresenceDirectory(KafkaClientFactory clients, TopicNames topics, ILogger<PresenceDirectory> logger)
    {
        _sessions = new CompactedTopicTable<DeviceSessionChanged>(clients, topics.DeviceSessions, bytes => Codecs.Devices.Decode(bytes).Value as DeviceSessionChanged, logger);
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
        var devices = _devicesOfUser.TryGetValue(userId, out var ids) ? ids : [];
        var sessions = new List<DeviceSessionChanged>(devices.Length);
        foreach (var deviceId in devices)
        {
            if (_sessions.TryGet(deviceId, out var session))
            {
                sessions.Add(session);
            }
        }

        return PresenceRules.Aggregate(userId, sessions, now);
    }

    private void OnSessionChanged(string deviceId, DeviceSessionChanged? session)
    {
        if (session is not null)
        {
            SessionChanged?.Invoke(session);
        }

        _userOfDevice.TryGetValue(deviceId, out var previousUser);
        var user = session?.UserId;
        if (previousUser is not null && !string.Equals(previousUser, user, StringComparison.Ordinal))
        {
            // A tombstone, or (never done by Edge) the device id reused by another user.
            Detach(previousUser, deviceId);
            UserChanged?.Invoke(previousUser);
        }

        if (user is null)
        {
            _userOfDevice.TryRemove(deviceId, out _);
            return;
        }

        if (previousUser is null || !string.Equals(previousUser, user, StringComparison.Ordinal))
        {
            _userOfDevice[deviceId] = user;
            _devicesOfUser.AddOrUpdate(user, _ => [deviceId], (_, ids) => [.. ids, deviceId]);
        }

        UserChanged?.Invoke(user);
    }

    private void Detach(string userId, string deviceId)
    {
        if (!_devicesOfUser.TryGetValue(userId, out var ids))
        {
            return;
        }

        var left = ids.Where(d => !string.Equals(d, deviceId, StringComparison.Ordinal)).ToArray();
        if (left.Length == 0)
        {
            _devicesOfUser.TryRemove(userId, out _);
        }
        else
        {
            _devicesOfUser[userId] = left;
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
