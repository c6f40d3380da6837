using Messaging.Contracts;
using Messaging.Contracts.Devices;
using Messaging.Contracts.Protocol;
using Messaging.Edge.Sockets;

namespace Messaging.Edge.Devices;

/// <summary>
/// Every Edge node closes its local socket of a device that <c>user.devices</c> shows removed
/// (close 4005 <c>device_removed</c>), whichever node the removal was asked on. A socket whose
/// token was issued after the removal (the device signed in again) is left open: the removal
/// record can reach this node after the re-registration let that socket in.
/// </summary>
internal sealed class RemovedDeviceEviction(DeviceDirectory devices, ConnectionRegistry registry, ILogger<RemovedDeviceEviction> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        devices.ListChanged += OnListChanged;
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        devices.ListChanged -= OnListChanged;
        return Task.CompletedTask;
    }

    private void OnListChanged(UserDevicesChanged list)
    {
        foreach (var removed in list.Removed)
        {
            if (registry.TryGet(DeviceRef.AddressOf(list.UserId, removed.DeviceId), out var connection)
                && DeviceListRules.IsRemoved(list, removed.DeviceId, connection.TokenIssuedAt))
            {
                connection.Close(CloseCodes.DeviceRemoved, "device removed");
                EdgeLog.RemovedDeviceClosed(logger, list.UserId, removed.DeviceId);
            }
        }
    }
}
