using System.Net.WebSockets;
using Messaging.Contracts.Devices;
using Messaging.Contracts.Protocol;
using Messaging.Contracts.Serialization;
using Messaging.Contracts.Topics;
using Messaging.Edge.Commands;
using Messaging.Edge.Sockets;
using Microsoft.Extensions.Options;

namespace Messaging.Edge.Devices;

/// <summary>
/// Writes <c>device.sessions</c> (key: the device address <c>userId/deviceId</c>): where each local device is connected. Online on connect
/// (awaited before the socket is served, so the Router can route to it) and offline on
/// disconnect; the node's own lease (<see cref="EdgeNodeLeased"/>), renewed every third of it,
/// keeps them alive, so the sessions of a crashed node expire with it. Each
/// record is issued under the registry's per-device lock, so the records of one device are
/// appended in the order its sockets came and went.
/// </summary>
internal sealed class SessionAnnouncer(
    ConnectionRegistry registry,
    EdgeProducer producer,
    TopicNames topics,
    IOptions<EdgeOptions> options,
    TimeProvider clock,
    ILogger<SessionAnnouncer> logger) : BackgroundService
{
    private readonly EdgeOptions _options = options.Value;

    // This run of the node: the sessions it announces live as long as its lease (EdgeNodeLeased).
    private readonly string _incarnation = Guid.NewGuid().ToString("N");

    /// <summary>Makes <paramref name="connection"/> the device's socket on this node (closing a previous one) and announces it.</summary>
    public async Task<bool> OnlineAsync(Connection connection, CancellationToken cancellationToken)
    {
        Connection? replaced;
        Task produce;
        lock (registry.LockFor(connection))
        {
            replaced = registry.Swap(connection);
            produce = Produce(connection, online: true, cancellationToken);
        }

        replaced?.Close(CloseCodes.Replaced, "replaced by a newer connection of this device");
        try
        {
            await produce;
            return true;
        }
        catch (Exception ex) when (EdgeProducer.IsUnavailable(ex))
        {
            EdgeLog.ProduceFailed(logger, ex, topics.DeviceSessions);
            return false;
        }
    }

    /// <summary>Removes the socket and announces the device offline, unless a newer socket already replaced it.</summary>
    public async Task OfflineAsync(Connection connection, CancellationToken cancellationToken)
    {
        Task? produce = null;
        lock (registry.LockFor(connection))
        {
            // A socket replaced from another node writes no offline record: it would overwrite the
            // newer session there and the Router would treat the device as offline until its next
            // heartbeat.
            if (registry.Remove(connection) && !connection.ReplacedElsewhere && !connection.Withdrawn)
            {
                produce = Produce(connection, online: false, cancellationToken);
            }
        }

        if (produce is null)
        {
            return;
        }

        try
        {
            await produce;
        }
        catch (Exception ex) when (EdgeProducer.IsUnavailable(ex) || ex is OperationCanceledException)
        {
            // The lease runs out by itself: the Router stops routing here after SessionLeaseSeconds.
            EdgeLog.ProduceFailed(logger, ex, topics.DeviceSessions);
        }
    }

    /// <summary>
    /// A drain: every local device announced offline at once, acknowledged, before any socket is
    /// closed. Closing first would race the client's reconnection elsewhere: this node's offline
    /// record could land after the other node's online record and hide the device from the
    /// Router until the next heartbeat. Returns how many sessions were withdrawn.
    /// </summary>
    public async Task<int> WithdrawAllAsync(CancellationToken cancellationToken)
    {
        var pending = new List<Task>();
        foreach (var connection in registry.Connections)
        {
            lock (registry.LockFor(connection))
            {
                if (registry.IsCurrent(connection) && !connection.ReplacedElsewhere && !connection.Withdrawn)
                {
                    connection.Withdrawn = true;
                    pending.Add(Produce(connection, online: false, cancellationToken));
                }
            }
        }

        try
        {
            await Task.WhenAll(pending);
        }
        catch (Exception ex) when (EdgeProducer.IsUnavailable(ex) || ex is OperationCanceledException)
        {
            // The leases run out by themselves: the Router stops routing here after SessionLeaseSeconds.
            EdgeLog.ProduceFailed(logger, ex, topics.DeviceSessions);
        }

        return pending.Count;
    }

    /// <summary>Writes this run's first lease before any socket is served, so readers tie its sessions to it from the start.</summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await RenewLeaseAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // One record per node every third of the lease keeps every session of this run alive: a
        // socket's own record is written only when it comes and goes. Renewing each socket's
        // record instead (20,480 sockets: 2,048 records/s, each read by the Router, every Edge node
        // and Projections) cost ~15 % of the servers' CPU per copy in groups of 1,024
        // (docs/benchmarks.md, seventeenth session).
        using var timer = new PeriodicTimer(_options.SessionLease / 3, clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            await RenewLeaseAsync(stoppingToken);
        }
    }

    private async Task RenewLeaseAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var lease = new EdgeNodeLeased
        {
            Node = _options.NodeId,
            Incarnation = _incarnation,
            RenewedAt = now,
            LeaseUntil = now + _options.SessionLease,
        };
        try
        {
            await producer.ProduceAsync(topics.DeviceSessions, SessionRules.NodeLeaseKey(_options.NodeId), Codecs.Devices.Encode(lease), cancellationToken);
        }
        catch (Exception ex) when (EdgeProducer.IsUnavailable(ex))
        {
            // Retried at the next tick; until a renewal lands, readers keep the lease they have and
            // then each session's own (both SessionLeaseSeconds long).
            EdgeLog.HeartbeatFailed(logger, ex, _options.NodeId, registry.Count);
        }
    }

    private Task<Confluent.Kafka.DeliveryResult<string, byte[]>> Produce(Connection connection, bool online, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var record = new DeviceSessionChanged
        {
            DeviceId = connection.Device.DeviceId,
            UserId = connection.Device.UserId,
            Node = online ? _options.NodeId : null,
            SessionId = connection.SessionId,
            ChangedAt = now,
            // Its own lease covers the moments before a reader has read this run's lease.
            LeaseUntil = online ? now + _options.SessionLease : null,
            Incarnation = _incarnation,
        };
        return producer.ProduceAsync(topics.DeviceSessions, connection.Address, Codecs.Devices.Encode(record), cancellationToken);
    }

    /// <summary>Closes every local socket at shutdown so each announces itself offline.</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        foreach (var connection in registry.Connections)
        {
            connection.Close((int)WebSocketCloseStatus.EndpointUnavailable, Drain.EdgeDrain.CloseReason(_options));
        }

        await base.StopAsync(cancellationToken);
    }
}
