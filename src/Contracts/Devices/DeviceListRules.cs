namespace Messaging.Contracts.Devices;

/// <summary>
/// The one reading of a <c>user.devices</c> list, shared by the Router (which decides
/// registrations) and Edge (which refuses a removed device at once and closes its sockets), so
/// "registered" and "removed" mean the same thing to both.
/// </summary>
public static class DeviceListRules
{
    public static bool IsRegistered(UserDevicesChanged? list, string deviceId)
    {
        if (list is null)
        {
            return false;
        }

        var ids = list.DeviceIds;
        for (var i = 0; i < ids.Count; i++)
        {
            if (string.Equals(ids[i], deviceId, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>When the device was removed, or null if it is not in the removed list.</summary>
    public static DateTimeOffset? RemovedAt(UserDevicesChanged? list, string deviceId)
    {
        if (list is null)
        {
            return null;
        }

        foreach (var removed in list.Removed)
        {
            if (string.Equals(removed.DeviceId, deviceId, StringComparison.Ordinal))
            {
                return removed.RemovedAt;
            }
        }

        return null;
    }

    /// <summary>
    /// A device is refused as removed iff it is in the removed list and its token was issued at or
    /// before the removal: signing in again (a newer token) is what brings it back, an old token never does.
    /// </summary>
    public static bool IsRemoved(UserDevicesChanged? list, string deviceId, DateTimeOffset tokenIssuedAt) =>
        RemovedAt(list, deviceId) is { } removedAt && tokenIssuedAt <= removedAt;
}
