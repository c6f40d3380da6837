using Messaging.Contracts.Devices;

namespace Messaging.Projections.Presence;

/// <summary>Pure: the latest session change per device in a page (a multi-row upsert may not touch one row twice).</summary>
internal static class PresenceRows
{
    public static List<DeviceSessionChanged> Latest(IReadOnlyList<DeviceSessionChanged> changes)
    {
        var latest = new Dictionary<string, DeviceSessionChanged>(StringComparer.Ordinal);
        for (var i = 0; i < changes.Count; i++)
        {
            var c = changes[i];
            // Later in the log wins a tie: the log order of one key is the order Edge wrote it.
            if (!latest.TryGetValue(c.DeviceId, out var current) || c.ChangedAt >= current.ChangedAt)
            {
                latest[c.DeviceId] = c;
            }
        }

        var result = new List<DeviceSessionChanged>(latest.Values);
        result.Sort(static (a, b) => string.CompareOrdinal(a.DeviceId, b.DeviceId));
        return result;
    }
}
