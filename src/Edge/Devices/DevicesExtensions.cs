namespace Messaging.Edge.Devices;

public static class DevicesExtensions
{
    /// <summary>The device directory (caught up with <c>user.devices</c> at start) and the session announcer.</summary>
    public static IHostApplicationBuilder AddEdgeDevices(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<DeviceDirectory>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<DeviceDirectory>());
        builder.Services.AddSingleton<SessionAnnouncer>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<SessionAnnouncer>());
        builder.Services.AddHostedService<CrossNodeReplacement>();
        return builder;
    }
}
