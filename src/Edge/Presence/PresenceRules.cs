using Messaging.Contracts.Devices;
using Messaging.Contracts.Protocol;

namespace Messaging.Edge.Presence;

/// <summary>
/// Pure: a user's presence from the latest session record of each of their devices. Online
/// while any device is online by <see cref="SessionRules.IsOnline"/> (the Router's rule: a node
/// and an unexpired lease). Last seen only while offline: the latest change of any device, i.e.
/// its disconnect, or for a device whose node died, its last lease renewal (the last moment it
/// is known to have been connected).
/// </summary>
internal static class PresenceRules
{
    public static UserPresence Aggregate(string userId, IEnumerable<DeviceSessionChanged> sessions, DateTimeOffset now)
    {
        var online = 0;
        DateTimeOffset? lastSeen = null;
        foreach (var session in sessions)
        {
            if (SessionRules.IsOnline(session, now))
            {
                online++;
            }

            if (lastSeen is null || session.ChangedAt > lastSeen)
            {
                lastSeen = session.ChangedAt;
            }
        }

        return new UserPresence { UserId = userId, Online = online > 0, LastSeen = online > 0 ? null : lastSeen, DevicesOnline = online };
    }
}
