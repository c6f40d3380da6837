namespace Messaging.Contracts.Devices;

/// <summary>
/// The one reading of a <c>device.sessions</c> record, shared by the Router (where to route) and
/// Edge (presence), so that "online" means the same thing to both.
/// </summary>
public static class SessionRules
{
    /// <summary>
    /// A device is online iff its latest session record names a node and its lease, when set,
    /// has not run out: a killed Edge node cannot re-announce, so its devices fall offline when
    /// their leases end instead of staying "online" forever.
    /// </summary>
    public static bool IsOnline(DeviceSessionChanged session, DateTimeOffset now) =>
        session.Node is not null && !(session.LeaseUntil is { } lease && lease <= now);

    /// <summary>The node k the device is online on (a valid node id below <paramref name="edgeNodes"/>), or -1.</summary>
    public static int NodeOf(DeviceSessionChanged session, DateTimeOffset now, int edgeNodes)
    {
        if (session.Node is not int node || node < 0 || node >= edgeNodes)
        {
            return -1;
        }

        return IsOnline(session, now) ? node : -1;
    }
}
