using Messaging.Contracts;
using Messaging.Contracts.Devices;
using Messaging.Contracts.Protocol;
using Messaging.Edge.Presence;
using Messaging.Edge.Sockets;
using Microsoft.Extensions.Options;

namespace Messaging.Edge.Devices;

/// <summary>
/// One live socket per device across nodes: when <c>device.sessions</c> shows that a device
/// connected to another Edge node after its socket here opened, the socket here is closed with
/// <see cref="CloseCodes.Replaced"/>. "After" compares session ids, which are UUIDv7 (time
/// ordered) and fixed per socket; the record's ChangedAt moves with every heartbeat, so
/// comparing it would let two nodes close each other's sockets.
/// </summary>
internal sealed class CrossNodeReplacement(
    PresenceDirectory sessions,
    ConnectionRegistry registry,
    IOptions<EdgeOptions> options,
    ILogger<CrossNodeReplacement> logger) : IHostedService
{
    private readonly int _nodeId = options.Value.NodeId;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        sessions.SessionChanged += OnSessionChanged;
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        sessions.SessionChanged -= OnSessionChanged;
        return Task.CompletedTask;
    }

    private void OnSessionChanged(DeviceSessionChanged session)
    {
        // Looked up by the session's address: another user's device with the same id is not this device.
        if (session.Node is not int node || node == _nodeId || !registry.TryGet(DeviceRef.AddressOf(session.UserId, session.DeviceId), out var local))
        {
            return;
        }

        if (ShouldClose(local.SessionId, session.SessionId))
        {
            local.ReplacedElsewhere = true;
            local.Close(CloseCodes.Replaced, "replaced by a newer connection of this device on another node");
            EdgeLog.ReplacedElsewhere(logger, session.UserId, session.DeviceId, node);
        }
    }

    /// <summary>True when the remote session started after the local one (UUIDv7 ids sort by time).</summary>
    internal static bool ShouldClose(string localSessionId, string remoteSessionId) =>
        string.CompareOrdinal(remoteSessionId, localSessionId) > 0;
}
