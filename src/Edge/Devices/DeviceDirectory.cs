using System.Collections.Concurrent;
using Messaging.Contracts;
using Messaging.Contracts.Devices;
using Messaging.Contracts.Serialization;
using Messaging.Contracts.Topics;
using Messaging.Edge.Commands;
using Messaging.Hosting.Kafka;
using Microsoft.Extensions.Options;

namespace Messaging.Edge.Devices;

public enum RegistrationResult
{
    Registered,
    TooManyDevices,
    Unavailable,
}

/// <summary>
/// The registered devices of every user, read from the compacted <c>user.devices</c> topic
/// (caught up before the node accepts sockets) and written here when a new device connects or
/// one is removed. Writes for one user are serialized on this node, and each read-modify-write
/// first reads the topic up to its current end, so a device registered a moment ago through
/// another node is kept (without that, a user's second device connecting to another node
/// overwrote the first: found by the end-to-end tests). Two nodes registering two new devices of
/// one user in the very same instant can still both win (last write wins on the topic); the
/// losing device is re-registered on its next connect.
/// </summary>
internal sealed class DeviceDirectory : IHostedService, IAsyncDisposable
{
    private const int Stripes = 64;

    private readonly CompactedTopicTable<UserDevicesChanged> _table;
    private readonly ConcurrentDictionary<string, UserDevicesChanged> _written = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim[] _locks = Enumerable.Range(0, Stripes).Select(_ => new SemaphoreSlim(1, 1)).ToArray();
    private readonly EdgeProducer _producer;
    private readonly TopicNames _topics;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly int _maxDevices;
    private readonly TimeSpan _catchUp;
    private int _disposed;

    public DeviceDirectory(KafkaClientFactory clients, EdgeProducer producer, TopicNames topics, IOptions<EdgeOptions> options, TimeProvider clock, ILogger<DeviceDirectory> logger)
    {
        _producer = producer;
        _topics = topics;
        _clock = clock;
        _logger = logger;
        _maxDevices = options.Value.MaxDevicesPerUser;
        _catchUp = TimeSpan.FromMilliseconds(options.Value.ProduceTimeoutMs);
        _table = new CompactedTopicTable<UserDevicesChanged>(clients, topics.UserDevices, bytes => Codecs.Devices.Decode(bytes).Value as UserDevicesChanged, logger);
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _table.Start();
        await _table.WaitCaughtUpAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The user's registered device ids as this node knows them (its own writes included).</summary>
    public IReadOnlyList<string> DevicesOf(string userId) => Latest(userId)?.DeviceIds ?? [];

    /// <summary>
    /// Makes sure the device is registered: a known device passes at once; a new one is added
    /// (durably, before the socket is accepted) unless the user is at <c>Edge:MaxDevicesPerUser</c>.
    /// </summary>
    public async Task<RegistrationResult> EnsureRegisteredAsync(DeviceRef device, CancellationToken cancellationToken)
    {
        if (Contains(DevicesOf(device.UserId), device.DeviceId))
        {
            return RegistrationResult.Registered;
        }

        var gate = LockFor(device.UserId);
        await gate.WaitAsync(cancellationToken);
        try
        {
            if (!await _table.CatchUpAsync(_catchUp, cancellationToken))
            {
                return RegistrationResult.Unavailable;
            }

            var current = DevicesOf(device.UserId);
            if (Contains(current, device.DeviceId))
            {
                return RegistrationResult.Registered;
            }

            if (current.Count >= _maxDevices)
            {
                EdgeLog.TooManyDevices(_logger, device.UserId, device.DeviceId, current.Count);
                return RegistrationResult.TooManyDevices;
            }

            return await WriteAsync(device.UserId, [.. current, device.DeviceId], cancellationToken)
                ? RegistrationResult.Registered
                : RegistrationResult.Unavailable;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Removes a device from the user's list (idempotent); false if the log is unavailable.</summary>
    public async Task<bool> RemoveAsync(string userId, string deviceId, CancellationToken cancellationToken)
    {
        var gate = LockFor(userId);
        await gate.WaitAsync(cancellationToken);
        try
        {
            if (!await _table.CatchUpAsync(_catchUp, cancellationToken))
            {
                return false;
            }

            var current = DevicesOf(userId);
            return !Contains(current, deviceId)
                || await WriteAsync(userId, current.Where(d => !string.Equals(d, deviceId, StringComparison.Ordinal)).ToList(), cancellationToken);
        }
        finally
        {
            gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Registered as a singleton and as a hosted service (same instance): the container
        // disposes it once per registration.
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _table.DisposeAsync();
        foreach (var gate in _locks)
        {
            gate.Dispose();
        }
    }

    private async Task<bool> WriteAsync(string userId, IReadOnlyList<string> deviceIds, CancellationToken cancellationToken)
    {
        var record = new UserDevicesChanged { UserId = userId, DeviceIds = deviceIds, ChangedAt = _clock.GetUtcNow() };
        try
        {
            await _producer.ProduceAsync(_topics.UserDevices, userId, Codecs.Devices.Encode(record), cancellationToken);
        }
        catch (Exception ex) when (EdgeProducer.IsUnavailable(ex))
        {
            EdgeLog.ProduceFailed(_logger, ex, _topics.UserDevices);
            return false;
        }

        // The table reads our own write back a little later; until then this copy answers.
        _written[userId] = record;
        return true;
    }

    private UserDevicesChanged? Latest(string userId)
    {
        _table.TryGet(userId, out var fromTopic);
        _written.TryGetValue(userId, out var local);
        if (fromTopic is null)
        {
            return local;
        }

        return local is not null && local.ChangedAt > fromTopic.ChangedAt ? local : fromTopic;
    }

    private SemaphoreSlim LockFor(string userId) => _locks[(int)((uint)StringComparer.Ordinal.GetHashCode(userId) % Stripes)];

    private static bool Contains(IReadOnlyList<string> ids, string id)
    {
        for (var i = 0; i < ids.Count; i++)
        {
            if (string.Equals(ids[i], id, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}
