using Messaging.Router.Routing;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Messaging.Router.Devices;

public static class DevicesExtensions
{
    /// <summary>
    /// Device registrations and removals: the <c>user.commands</c> loop that decides them in order
    /// per user into <c>user.devices</c>. Shares the Router's options and device directory.
    /// </summary>
    public static IHostApplicationBuilder AddRouterDevices(this IHostApplicationBuilder builder)
    {
        builder.AddRouterDirectory();
        builder.Services.TryAddSingleton<RouterMetrics>();
        builder.Services.AddSingleton<DeviceCommandLoop>();
        builder.Services.AddHostedService<DeviceCommandWorker>();
        return builder;
    }
}
