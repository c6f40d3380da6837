using Messaging.Contracts.Devices;

namespace Messaging.Projections.Presence;

/// <summary>
/// Pure: the latest session change per device (user, device id) and the latest lease per Edge node
/// in a page (a multi-row upsert may not touch one row twice), in the primary key's order.
/// </summary>
internal static class PresenceRows
{
    public static List<DeviceSessionChanged> Latest(IReadOnlyList<DeviceSessionChanged> changes) =>
        LatestBy(changes, static c => (c.UserId, c.DeviceId), static c => c.ChangedAt, static (a, b) =>
        {
            var c = string.CompareOrdinal(a.UserId, b.UserId);
            return c != 0 ? c : string.CompareOrdinal(a.DeviceId, b.DeviceId);
        });

    /// <summary>The latest lease per node in a page, in node order.</summary>
    public static List<EdgeNodeLeased> LatestLeases(IReadOnlyList<EdgeNodeLeased> leases) =>
        LatestBy(leases, static l => l.Node, static l => l.RenewedAt, static (a, b) => a.Node.CompareTo(b.Node));

    private static List<T> LatestBy<T, TKey>(IReadOnlyList<T> records, Func<T, TKey> keyOf, Func<T, DateTimeOffset> timeOf, Comparison<T> order)
        where TKey : notnull
    {
        var latest = new Dictionary<TKey, T>();
        for (var i = 0; i < records.Count; i++)
        {
            var r = records[i];
            // Later in the log wins a tie: the log order of one key is the order Edge wrote it.
            var key = keyOf(r);
            if (!latest.TryGetValue(key, out var current) || timeOf(r) >= timeOf(current))
            {
                latest[key] = r;
            }
        }

        var result = new List<T>(latest.Values);
        result.Sort(order);
        return result;
    }
}
