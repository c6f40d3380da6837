using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Messaging.Contracts.Devices;

/// <summary>
/// The one reading of a <c>device.sessions</c> record, shared by the Router (where to route) and
/// Edge (presence), so that "online" means the same thing to both.
/// </summary>
public static class SessionRules
{
    /// <summary>
    /// The <c>device.sessions</c> key of Edge node <paramref name="node"/>'s lease (<see cref="EdgeNodeLeased"/>):
    /// no device address can be it, since an address holds a '/' and a key of this form none.
    /// </summary>
    public static string NodeLeaseKey(int node) => "edge-node:" + node.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// A device is online iff its latest session record names a node and is alive at
    /// <paramref name="now"/>: while the lease of the node run that announced it holds, when
    /// <paramref name="nodeLease"/> (that node's latest lease record) is of the same
    /// <see cref="DeviceSessionChanged.Incarnation"/>; otherwise while the record's own lease holds
    /// (a node that renews each session, or a lease not read yet). So a killed Edge node cannot
    /// leave its devices "online" forever: its lease runs out, and the sessions of an earlier run
    /// of a restarted node were never renewed by anyone.
    /// </summary>
    public static bool IsOnline(DeviceSessionChanged session, EdgeNodeLeased? nodeLease, DateTimeOffset now)
    {
        if (session.Node is null)
        {
            return false;
        }

        if (HeldBy(session, nodeLease))
        {
            return nodeLease.LeaseUntil > now;
        }

        return !(session.LeaseUntil is { } lease && lease <= now);
    }

    /// <summary>
    /// The last moment <paramref name="session"/>'s device is known to have been connected: the
    /// latest renewal of the node run that announced it (while that lease is the one
    /// <paramref name="nodeLease"/> names), else the record's own time (its disconnect, or its
    /// last renewal by a node that renews each session).
    /// </summary>
    public static DateTimeOffset LastAlive(DeviceSessionChanged session, EdgeNodeLeased? nodeLease) =>
        HeldBy(session, nodeLease) && nodeLease.RenewedAt > session.ChangedAt
            ? nodeLease.RenewedAt
            : session.ChangedAt;

    /// <summary>The node k the device is online on (a valid node id below <paramref name="edgeNodes"/>), or -1.</summary>
    public static int NodeOf(DeviceSessionChanged session, EdgeNodeLeased? nodeLease, DateTimeOffset now, int edgeNodes)
    {
        if (session.Node is not int node || node < 0 || node >= edgeNodes)
        {
            return -1;
        }

        return IsOnline(session, nodeLease, now) ? node : -1;
    }

    /// <summary>Whether <paramref name="nodeLease"/> is the lease of the node run that announced <paramref name="session"/> (never for an offline record: its node is null).</summary>
    private static bool HeldBy(DeviceSessionChanged session, [NotNullWhen(true)] EdgeNodeLeased? nodeLease) =>
        session.Incarnation is { } incarnation && nodeLease is not null && nodeLease.Node == session.Node
            && string.Equals(nodeLease.Incarnation, incarnation, StringComparison.Ordinal);
}
