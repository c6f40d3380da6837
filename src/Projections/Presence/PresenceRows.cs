using Messaging.Contracts.Devices;

namespace Messaging.Projections.Presence;

/// <summary>
/// Pure: the latest session change per device (user, device id) and the latest lease per Edge node
/// in a page (a multi-row upsert may not touch one row twice), in the primary key's order.
/// </summary>
internal static class PresenceRows
{
    public static List<DeviceSessionChanged> Latest(IReadOnlyList<DeviceSessionChanged> changes)
    {
        var latest = new Dictionary<(string UserId, string DeviceId), DeviceSessionChanged>();
        for (var i = 0; i < changes.Count; i++)
        {
            var c = changes[i];
            // Later in the log wins a tie: the log order of one key is the order Edge wrote it.
            var key = (c.UserId, c.DeviceId);
            if (!latest.TryGetValue(key, out var current) || c.ChangedAt >= current.ChangedAt)
            {
                latest[key] = c;
            }
        }

        var result = new List<DeviceSessionChanged>(latest.Values);
        result.Sort(static (a, b) =>
        {
            var c = string.CompareOrdinal(a.UserId, b.UserId);
            return c != 0 ? c : string.CompareOrdinal(a.DeviceId, b.DeviceId);
        });
        return result;
    }

    /// <summary>The latest lease per node in a page (later in the log wins a tie), in node order.</summary>
    public static List<EdgeNodeLeased> LatestLeases(IReadOnlyList<EdgeNodeLeased> leases)
    {
        var latest = new Dictionary<int, EdgeNodeLeased>();
        for (var i = 0; i < leases.Count; i++)
        {
            var l = leases[i];
            if (!latest.TryGetValue(l.Node, out var current) || l.RenewedAt >= current.RenewedAt)
            {
                latest[l.Node] = l;
            }
        }

        var result = new List<EdgeNodeLeased>(latest.Values);
        result.Sort(static (a, b) => a.Node.CompareTo(b.Node));
        return result;
    }
}
