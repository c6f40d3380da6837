namespace Messaging.Edge.Drain;

public static class DrainExtensions
{
    /// <summary>The SIGTERM drain (<see cref="EdgeDrain"/>) and its readiness check.</summary>
    public static IHostApplicationBuilder AddEdgeDrain(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<EdgeDrain>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<EdgeDrain>());
        builder.Services.AddHealthChecks().AddCheck<EdgeDrain>("edge-drain", tags: ["ready"]);
        return builder;
    }
}
