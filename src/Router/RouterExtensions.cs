using Messaging.Router.Directory;
using Messaging.Router.Routing;
using Microsoft.Extensions.Options;

namespace Messaging.Router;

public static class RouterExtensions
{
    /// <summary>The Router: device directory, the command consumer loop and its readiness check.</summary>
    public static IHostApplicationBuilder AddRouter(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<RouterOptions>()
            .Bind(builder.Configuration.GetSection(RouterOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<RouterOptions>, RouterOptionsValidator>();
        builder.Services.AddSingleton<DeviceDirectory>();
        builder.Services.AddSingleton<IDeviceDirectory>(sp => sp.GetRequiredService<DeviceDirectory>());
        builder.Services.AddSingleton<RouterMetrics>();
        builder.Services.AddSingleton<RouterLoop>();
        builder.Services.AddHostedService<RouterWorker>();
        builder.Services.AddHealthChecks().AddCheck<DirectoryHealthCheck>("router-directory", tags: ["ready"]);
        return builder;
    }
}
