namespace Messaging.Edge.Devices;

public static class DevicesExtensions
{
    /// <summary>
    /// The device directory (caught up with <c>user.devices</c> at start, registrations and removals
    /// through the Router), the session announcer, and the closing of replaced and removed devices' sockets.
    /// </summary>
    public static IHostApplicationBuilder AddEdgeDevices(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<DeviceCommandReplies>();
        builder.Services.AddSingleton<DeviceDirectory>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<DeviceDirectory>());
        builder.Services.AddSingleton<SessionAnnouncer>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<SessionAnnouncer>());
        builder.Services.AddHostedService<CrossNodeReplacement>();
        builder.Services.AddHostedService<RemovedDeviceEviction>();
        return builder;
    }
}
