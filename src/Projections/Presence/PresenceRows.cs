using Messaging.Contracts.Devices;

namespace Messaging.Projections.Presence;

/// <summary>
/// Pure: the latest session change per device (user, device id) in a page (a multi-row upsert
/// may not touch one row twice), in the primary key's order.
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
}
