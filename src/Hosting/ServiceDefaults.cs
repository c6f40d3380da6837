using Messaging.Contracts.Topics;
using Messaging.Hosting.Health;
using Messaging.Hosting.Kafka;
using Messaging.Hosting.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Messaging.Hosting;

/// <summary>What every Messaging service wires the same way: configuration, Kafka clients, logs, health, metrics and traces.</summary>
public static class ServiceDefaults
{
    public static IHostApplicationBuilder AddServiceDefaults(this IHostApplicationBuilder builder)
    {
        builder.Configuration.AddKafkaProfile();
        builder.Services.AddOptions<KafkaOptions>()
            .Bind(builder.Configuration.GetSection(KafkaOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddOptions<ClusterOptions>()
            .Bind(builder.Configuration.GetSection(ClusterOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<KafkaClientFactory>();
        builder.Services.AddSingleton(sp => new TopicNames(sp.GetRequiredService<IOptions<KafkaOptions>>().Value.TopicPrefix));
        builder.Services.AddSingleton<TopicProvisioner>();
        builder.Services.AddSingleton<KafkaHealthCheck>();
        builder.Services.AddHealthChecks().AddCheck<KafkaHealthCheck>("kafka", tags: ["ready"]);
        builder.AddMessagingTelemetry();
        return builder;
    }

    /// <summary>Adds the PostgreSQL readiness check (for services that use the read models).</summary>
    public static IHostApplicationBuilder AddPostgresHealthCheck(this IHostApplicationBuilder builder)
    {
        builder.Services.AddHealthChecks().AddCheck<PostgresHealthCheck>("postgres", tags: ["ready"]);
        return builder;
    }

    /// <summary><c>/health/live</c>: the process runs. <c>/health/ready</c>: its dependencies answer. <c>/metrics</c>: Prometheus.</summary>
    public static WebApplication MapServiceDefaults(this WebApplication app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains("ready") });
        app.MapMessagingTelemetry();
        return app;
    }
}
