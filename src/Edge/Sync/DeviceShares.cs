using Messaging.Contracts;
using Messaging.Contracts.Devices;
using Messaging.Edge.Devices;
using Microsoft.Extensions.Options;

namespace Messaging.Edge.Sync;

/// <summary>
/// Where a device's share of its chats begins (<see cref="DeviceListRules.TryGetHistoryFrom"/>:
/// since joining for a user's first device, since its registration for a companion), read from
/// this node's copy of <c>user.devices</c>. No table and no projection: every Edge node already
/// holds every user's device list in memory (<see cref="DeviceDirectory"/>).
/// </summary>
internal sealed class DeviceShares(DeviceDirectory directory, IOptions<EdgeOptions> options, TimeProvider clock)
{
    private readonly EdgeOptions _options = options.Value;

    /// <summary>The device's share as the directory knows it now (the chat list: no waiting).</summary>
    public DateTimeOffset? HistoryFrom(DeviceRef device) =>
        DeviceListRules.HistoryFromOrNew(directory.ListOf(device.UserId), device.DeviceId, clock.GetUtcNow());

    /// <summary>
    /// Waits (bounded by <c>Edge:SyncCatchUpMs</c>) until the directory lists the device: the
    /// Router's reply to a registration can reach this node before the new list does, and a
    /// sync right after connecting must not take a companion for a first device, nor a first
    /// device for a companion. Known false: the share is a guess and the sync is partial.
    /// </summary>
    public async Task<(bool Known, DateTimeOffset? HistoryFrom)> WaitAsync(DeviceRef device, CancellationToken cancellationToken)
    {
        var deadline = clock.GetTimestamp() + (long)(_options.SyncCatchUp.TotalSeconds * clock.TimestampFrequency);
        while (true)
        {
            var list = directory.ListOf(device.UserId);
            if (DeviceListRules.TryGetHistoryFrom(list, device.DeviceId, out var historyFrom))
            {
                return (true, historyFrom);
            }

            if (clock.GetTimestamp() >= deadline)
            {
                return (false, DeviceListRules.HistoryFromOrNew(list, device.DeviceId, clock.GetUtcNow()));
            }

            await Task.Delay(_options.SyncCatchUpPoll, clock, cancellationToken);
        }
    }
}
