using Messaging.Contracts.Devices;
using Messaging.Contracts.Protocol;

namespace Messaging.Edge.Presence;

/// <summary>
/// Pure: a user's presence from the latest session record of each of their devices. Online
/// while any device is online by <see cref="SessionRules.IsOnline"/> (the Router's rule: a node
/// and an unexpired lease, the node's or the record's own). Last seen only while offline: the
/// latest of the devices' <see cref="SessionRules.LastAlive"/>, i.e. a disconnect, or for a device
/// whose node died, that node's last lease renewal (the last moment it is known to have been connected).
/// </summary>
internal static class PresenceRules
{
    public static UserPresence Aggregate(string userId, IEnumerable<DeviceSessionChanged> sessions, NodeLeases leases, DateTimeOffset now)
    {
        var online = 0;
        DateTimeOffset? lastSeen = null;
        foreach (var session in sessions)
        {
            var lease = leases.Of(session.Node);
            if (SessionRules.IsOnline(session, lease, now))
            {
                online++;
            }

            var alive = SessionRules.LastAlive(session, lease);
            if (lastSeen is null || alive > lastSeen)
            {
                lastSeen = alive;
            }
        }

        return new UserPresence { UserId = userId, Online = online > 0, LastSeen = online > 0 ? null : lastSeen, DevicesOnline = online };
    }
}
