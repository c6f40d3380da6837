using Confluent.Kafka;
using Messaging.Contracts;
using Messaging.Contracts.Devices;
using Messaging.Contracts.Serialization;
using Messaging.Contracts.Topics;
using Messaging.Hosting;
using Messaging.Hosting.Kafka;
using Messaging.Router.Chats;
using Microsoft.Extensions.Options;

namespace Messaging.Router.Directory;

/// <summary>Who has which devices and where each device is online: what fan-out needs.</summary>
public interface IDeviceDirectory : IDeviceLookup
{
    /// <summary>The Edge node the device (by its address <c>userId/deviceId</c>) is online on at <paramref name="now"/>, or -1 when it is offline.</summary>
    int NodeOf(string address, DateTimeOffset now);

    /// <summary>Reads both directory topics up to their current end (see <see cref="CompactedTopicTable{TValue}.CatchUp"/>); false on timeout.</summary>
    bool CatchUp(TimeSpan timeout, CancellationToken cancellationToken);
}

/// <summary>
/// In-memory copies of the compacted <c>user.devices</c> (user → devices) and
/// <c>device.sessions</c> (device address → node, lease; each Edge node's lease) topics, tailed for as long as the
/// process runs. A user's devices are held as addresses, built once when their record is read.
/// </summary>
public sealed class DeviceDirectory : IDeviceDirectory, IAsyncDisposable
{
    private readonly CompactedTopicTable<UserDeviceRow> _devices;
    private readonly CompactedTopicTable<DeviceRecord> _sessions;
    private readonly NodeLeases _leases;
    private readonly int _edgeNodes;
    private readonly Lazy<IConsumer<string, byte[]>> _watermarks;
    private readonly object _startLock = new();
    private volatile bool _caughtUp;
    private Task? _started;
    private TopicPartition[]? _both;
    private int _disposed;

    public DeviceDirectory(KafkaClientFactory clients, TopicNames topics, IOptions<ClusterOptions> cluster, ILoggerFactory loggers)
    {
        var logger = loggers.CreateLogger<DeviceDirectory>();
        _edgeNodes = cluster.Value.EdgeNodes;
        // A handle only for ListOffsets (never assigned, never joins its group).
        _watermarks = new(() => new ConsumerBuilder<string, byte[]>(clients.ConsumerConfig($"directory-watermarks-{Guid.NewGuid():N}", "directory-watermarks")).Build());
        _devices = new CompactedTopicTable<UserDeviceRow>(clients, topics.UserDevices, bytes => Codecs.Devices.Decode(bytes).Value is UserDevicesChanged row ? new UserDeviceRow(row, Addresses(row)) : null, logger);
        _leases = new NodeLeases(_edgeNodes);
        _sessions = new CompactedTopicTable<DeviceRecord>(clients, topics.DeviceSessions, bytes => _leases.Read(Codecs.Devices.Decode(bytes).Value), logger);
    }

    /// <summary>Both tables have read their topics up to the end as of start-up.</summary>
    public bool IsCaughtUp => _caughtUp;

    /// <summary>
    /// Starts tailing both topics (once, whoever asks first: the chat loop and the device loop both
    /// need it) and completes once both caught up.
    /// </summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        lock (_startLock)
        {
            _started ??= StartOnceAsync();
        }

        return _started.WaitAsync(cancellationToken);
    }

    private async Task StartOnceAsync()
    {
        _devices.Start();
        _sessions.Start();
        await Task.WhenAll(_devices.WaitCaughtUpAsync(CancellationToken.None), _sessions.WaitCaughtUpAsync(CancellationToken.None));
        _caughtUp = true;
    }

    /// <summary>
    /// Both tables' high watermarks in one broker request, then waits until both tables read up
    /// to them. The Router does this before every batch, so its cost is per batch: it was 16
    /// ListOffsets requests on 8 thread-pool work items (docs/benchmarks.md, "Directory catch-up
    /// in one request").
    /// </summary>
    public bool CatchUp(TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (_sessions.Partitions is not { } sessions || _devices.Partitions is not { } devices)
        {
            return false;
        }

        var both = _both ??= [.. sessions, .. devices];
        var deadline = DateTime.UtcNow + timeout;
        var highs = HighWatermarks.Query(_watermarks.Value, both, timeout);
        return _sessions.WaitFor(highs, 0, deadline, cancellationToken)
            && _devices.WaitFor(highs, sessions.Count, deadline, cancellationToken);
    }

    public IReadOnlyList<string> AddressesOf(string userId) =>
        _devices.TryGet(userId, out var row) ? row.Addresses : [];

    /// <summary>Reads <c>user.devices</c> up to its current end (the device loop decides on it); false on timeout.</summary>
    public bool CatchUpDevices(TimeSpan timeout, CancellationToken cancellationToken) => _devices.CatchUp(timeout, cancellationToken);

    /// <summary>The user's latest <c>user.devices</c> record (registered and removed devices), or null.</summary>
    public UserDevicesChanged? DeviceListOf(string userId) => _devices.TryGet(userId, out var row) ? row.Record : null;

    public int NodeOf(string address, DateTimeOffset now) =>
        _sessions.TryGet(address, out var record) && record is DeviceSessionChanged session ? _leases.NodeOf(session, now) : -1;

    private static string[] Addresses(UserDevicesChanged row)
    {
        var addresses = new string[row.DeviceIds.Count];
        for (var i = 0; i < addresses.Length; i++)
        {
            addresses[i] = DeviceRef.AddressOf(row.UserId, row.DeviceIds[i]);
        }

        return addresses;
    }

    public async ValueTask DisposeAsync()
    {
        // Registered both as itself and as IDeviceDirectory: the container disposes it twice.
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _devices.DisposeAsync();
        await _sessions.DisposeAsync();
        if (_watermarks.IsValueCreated)
        {
            _watermarks.Value.Dispose();
        }
    }
}

/// <summary>A user's device list as decided (for the device loop) and as addresses built once (for fan-out).</summary>
internal sealed record UserDeviceRow(UserDevicesChanged Record, string[] Addresses);
