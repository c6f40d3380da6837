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

    /// <summary>
    /// Where a device's share of its chats begins (docs/protocol.md, "Who gets what"): null for a
    /// user's first device (everything since the user joined each chat), the registration time
    /// for a companion (a device registered while another device of its user was). A registered
    /// device without a registration entry (registered before entries were recorded) is a first
    /// device. False when the device is not registered in <paramref name="list"/>.
    /// </summary>
    public static bool TryGetHistoryFrom(UserDevicesChanged? list, string deviceId, out DateTimeOffset? historyFrom)
    {
        historyFrom = null;
        if (!IsRegistered(list, deviceId))
        {
            return false;
        }

        foreach (var registered in list!.Registered)
        {
            if (string.Equals(registered.DeviceId, deviceId, StringComparison.Ordinal))
            {
                historyFrom = registered.Companion ? registered.RegisteredAt : null;
                break;
            }
        }

        return true;
    }

    /// <summary>
    /// <see cref="TryGetHistoryFrom"/> for a device that may not be in the list (yet): an unknown
    /// device of a user with registered devices would be a companion registered now; of a user
    /// without any, a first device.
    /// </summary>
    public static DateTimeOffset? HistoryFromOrNew(UserDevicesChanged? list, string deviceId, DateTimeOffset now) =>
        TryGetHistoryFrom(list, deviceId, out var historyFrom) ? historyFrom
        : list is { DeviceIds.Count: > 0 } ? now
        : null;
}
