using Messaging.Contracts.Protocol;
using Messaging.Edge.Auth;

namespace Messaging.Edge.Devices;

/// <summary>
/// HTTP requests authenticated as a removed device (token issued before the removal) are refused
/// with 401 and problem code <c>device_removed</c>: a valid signature does not outlive
/// <c>device.remove</c>. <c>/ws</c> is left to the socket endpoint, which accepts the upgrade and
/// closes with 4005 so the client learns why.
/// </summary>
internal static class RemovedDeviceRefusal
{
    public static IApplicationBuilder UseRemovedDeviceRefusal(this IApplicationBuilder app) =>
        app.Use(async (context, next) =>
        {
            if (context.User.Identity?.IsAuthenticated == true
                && !context.Request.Path.StartsWithSegments("/ws")
                && context.User.TryGetDevice(out var device)
                && context.RequestServices.GetRequiredService<DeviceDirectory>().IsRemoved(device, context.User.TokenIssuedAt()))
            {
                await Problems.Of(StatusCodes.Status401Unauthorized, ErrorCodes.DeviceRemoved, "this device was removed; sign in again to register it").ExecuteAsync(context);
                return;
            }

            await next(context);
        });
}
