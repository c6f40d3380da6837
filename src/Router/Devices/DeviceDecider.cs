using Messaging.Contracts;
using Messaging.Contracts.Delivery;
using Messaging.Contracts.Devices;
using Messaging.Contracts.Protocol;

namespace Messaging.Router.Devices;

/// <summary>The device limits the Router enforces (from <c>Router:*</c> options).</summary>
/// <param name="MaxDevicesPerUser">Registered devices per user; a new one beyond it is refused <c>too_many_devices</c>.</param>
/// <param name="MaxRemovedDevicesPerUser">
/// Removed devices remembered per user (the oldest is forgotten first), so one user's
/// <c>user.devices</c> record stays far below the broker's record limit however often devices are removed.
/// </param>
public sealed record DeviceLimits(int MaxDevicesPerUser = 5, int MaxRemovedDevicesPerUser = 100);

/// <summary>
/// The outcome of one device command: the user's new device list when it changed (null when
/// nothing changed: a known device, an idempotent removal, a refusal) and the reply for the
/// origin node, always.
/// </summary>
public readonly record struct DeviceDecision(UserDevicesChanged? Changed, DeviceCommandDecided Reply)
{
    public string? Code => Reply.Code;
}

/// <summary>
/// Decides device registrations and removals for one user. No I/O, no clock: the same state,
/// command, limits and time always give the same decision. The Router applies the commands of a
/// user one after another (one partition of <c>user.commands</c>), so the limit holds exactly
/// however many devices connect at once: the read-modify-write it replaces, run by every Edge
/// node on its own, lost one of two devices registering in the same instant (issue 8).
/// </summary>
public static class DeviceDecider
{
    public static DeviceDecision Decide(UserDevicesChanged? state, DeviceCommand command, DeviceLimits limits, DateTimeOffset now)
    {
        if (!Ids.IsValidUserId(command.UserId) || !Ids.IsValidDeviceId(command.DeviceId))
        {
            return Refuse(command, ErrorCodes.BadFrame, "invalid user or device id");
        }

        if (state is not null && !string.Equals(state.UserId, command.UserId, StringComparison.Ordinal))
        {
            // Only a bug in the caller gets here: deciding against another user's list would leak it.
            throw new ArgumentException($"state of user '{state.UserId}' given for a command of '{command.UserId}'", nameof(state));
        }

        return command switch
        {
            RegisterDevice register => Register(state, register, limits, now),
            RemoveDevice remove => Remove(state, remove, limits, now),
            _ => Refuse(command, ErrorCodes.UnknownType, "unknown command"),
        };
    }

    private static DeviceDecision Register(UserDevicesChanged? state, RegisterDevice command, DeviceLimits limits, DateTimeOffset now)
    {
        var devices = state?.DeviceIds ?? [];
        if (DeviceListRules.IsRegistered(state, command.DeviceId))
        {
            return Accept(null, command);
        }

        if (DeviceListRules.IsRemoved(state, command.DeviceId, command.TokenIssuedAt))
        {
            return Refuse(command, ErrorCodes.DeviceRemoved, "this device was removed; sign in again to register it");
        }

        if (devices.Count >= limits.MaxDevicesPerUser)
        {
            return Refuse(command, ErrorCodes.TooManyDevices, $"at most {limits.MaxDevicesPerUser} devices per user; remove one first");
        }

        // A removed device signed in again (token newer than the removal) leaves the removed list.
        var removed = state?.Removed ?? [];
        // A companion starts at its registration, a first device at the user's joining (docs/protocol.md,
        // "Who gets what"): the decision is recorded here, where the order of a user's devices is known.
        var registered = new List<RegisteredDevice>(state?.Registered ?? []) { new(command.DeviceId, now, Companion: devices.Count > 0) };
        var changed = Next(state, command.UserId, [.. devices, command.DeviceId], registered, Without(removed, command.DeviceId), now);
        return Accept(changed, command);
    }

    private static DeviceDecision Remove(UserDevicesChanged? state, RemoveDevice command, DeviceLimits limits, DateTimeOffset now)
    {
        if (!string.Equals(command.Origin.UserId, command.UserId, StringComparison.Ordinal) || !Ids.IsValidDeviceId(command.Origin.DeviceId))
        {
            return Refuse(command, ErrorCodes.BadFrame, "a device can only remove devices of its own user");
        }

        var devices = state?.DeviceIds ?? [];
        if (!DeviceListRules.IsRegistered(state, command.Origin.DeviceId) && DeviceListRules.RemovedAt(state, command.Origin.DeviceId) is not null)
        {
            return Refuse(command, ErrorCodes.DeviceRemoved, "the device asking for the removal was removed itself");
        }

        if (DeviceListRules.RemovedAt(state, command.DeviceId) is { } removedAt && removedAt >= command.IssuedAt)
        {
            // Already removed when this command was issued (a retry, or a second click): nothing to do.
            return Accept(null, command);
        }

        // A device never registered is remembered as removed too: removing a lost phone before it
        // ever connected must keep its old token out. A device removed before and removed again
        // (its user may have signed it in again since) gets the new time, so tokens issued in
        // between are refused too.
        var removed = Without(state?.Removed ?? [], command.DeviceId);
        removed.Add(new RemovedDevice(command.DeviceId, now));
        if (removed.Count > limits.MaxRemovedDevicesPerUser)
        {
            removed.RemoveRange(0, removed.Count - limits.MaxRemovedDevicesPerUser);
        }

        var remaining = devices.Where(d => !string.Equals(d, command.DeviceId, StringComparison.Ordinal)).ToList();
        var registered = (state?.Registered ?? []).Where(r => !string.Equals(r.DeviceId, command.DeviceId, StringComparison.Ordinal)).ToList();
        return Accept(Next(state, command.UserId, remaining, registered, removed, now), command);
    }

    private static UserDevicesChanged Next(UserDevicesChanged? state, string userId, IReadOnlyList<string> devices, IReadOnlyList<RegisteredDevice> registered, IReadOnlyList<RemovedDevice> removed, DateTimeOffset now) => new()
    {
        UserId = userId,
        DeviceIds = devices,
        Registered = registered,
        Removed = removed,
        Version = (state?.Version ?? 0) + 1,
        ChangedAt = now,
    };

    private static DeviceDecision Accept(UserDevicesChanged? changed, DeviceCommand command) =>
        new(changed, Reply(command, null, null));

    private static DeviceDecision Refuse(DeviceCommand command, string code, string message) =>
        new(null, Reply(command, code, message));

    /// <summary>The reply goes to the device that is waiting for it: the registering one, or the one that asked for a removal.</summary>
    private static DeviceCommandDecided Reply(DeviceCommand command, string? code, string? message) => new()
    {
        Devices = [command is RemoveDevice remove ? remove.Origin.Address : DeviceRef.AddressOf(command.UserId, command.DeviceId)],
        CommandId = command.CommandId,
        RequestId = command.RequestId,
        Code = code,
        Message = message,
    };

    private static List<RemovedDevice> Without(IReadOnlyList<RemovedDevice> removed, string deviceId) =>
        removed.Where(r => !string.Equals(r.DeviceId, deviceId, StringComparison.Ordinal)).ToList();
}
