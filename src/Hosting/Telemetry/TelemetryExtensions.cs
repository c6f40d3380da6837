using System.Diagnostics.Metrics;
using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Messaging.Hosting.Telemetry;

/// <summary>OpenTelemetry for every service: the services' meters and sources, ASP.NET Core, HttpClient, Npgsql, the runtime.</summary>
public static class TelemetryExtensions
{
    /// <summary>Kestrel's memory pool meter (ASP.NET Core 10), exported only with <c>Telemetry:MemoryPoolMetrics</c>.</summary>
    public const string MemoryPoolMeter = "Microsoft.AspNetCore.MemoryPool";

    public static IHostApplicationBuilder AddMessagingTelemetry(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<TelemetryOptions>()
            .Bind(builder.Configuration.GetSection(TelemetryOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();

        // Read once here: which exporters and whether tracing exists at all is decided at start.
        var options = builder.Configuration.GetSection(TelemetryOptions.Section).Get<TelemetryOptions>() ?? new TelemetryOptions();
        var serviceName = options.ServiceName.Length > 0 ? options.ServiceName : Assembly.GetEntryAssembly()?.GetName().Name ?? "messaging";
        var otlp = options.OtlpEndpoint.Length > 0 ? new Uri(options.OtlpEndpoint) : null;

        builder.Services.AddSingleton<ConsumerLag>();
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(serviceName, serviceInstanceId: $"{Environment.MachineName}-{Environment.ProcessId}"))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(MessagingTelemetry.Prefix + "*")
                    .AddAspNetCoreInstrumentation()
                    .AddHttpClientInstrumentation()
                    .AddRuntimeInstrumentation()
                    .AddNpgsqlInstrumentation();
                if (options.Prometheus)
                {
                    metrics.AddPrometheusExporter();
                }

                if (otlp is not null)
                {
                    metrics.AddOtlpExporter(o => o.Endpoint = otlp);
                }
            });

        // Only this host's meters (and process-wide ones: runtime, Npgsql): several hosts in one
        // process (the integration tests) would otherwise each export all of them. A dropped
        // instrument is not listened to at all, so its recordings cost nothing
        // (Telemetry:MemoryPoolMetrics).
        builder.Services.ConfigureOpenTelemetryMeterProvider((services, metrics) =>
        {
            var own = services.GetRequiredService<IMeterFactory>();
            metrics.AddView(i => (i.Meter.Scope is IMeterFactory factory && !ReferenceEquals(factory, own))
                || (!options.MemoryPoolMetrics && i.Meter.Name == MemoryPoolMeter) ? MetricStreamConfiguration.Drop : null);
        });

        // No tracer at all unless asked for: with none, ActivitySource.HasListeners() is false and
        // the per-message trace code costs one branch (the bench's cost stays as it was).
        if (options.TraceSampleRatio > 0)
        {
            telemetry.WithTracing(tracing =>
            {
                tracing.SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(options.TraceSampleRatio)))
                    .AddSource(MessagingTelemetry.Prefix + "*")
                    .AddAspNetCoreInstrumentation(o => o.Filter = IsTracedRequest)
                    .AddHttpClientInstrumentation()
                    .AddNpgsql();
                if (otlp is not null)
                {
                    tracing.AddOtlpExporter(o => o.Endpoint = otlp);
                }
            });
        }

        return builder;
    }

    /// <summary>Maps the Prometheus scrape endpoint when <c>Telemetry:Prometheus</c> is on.</summary>
    public static WebApplication MapMessagingTelemetry(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<TelemetryOptions>>().Value;
        if (options.Prometheus)
        {
            app.MapPrometheusScrapingEndpoint(options.PrometheusPath);
        }

        return app;
    }

    /// <summary>
    /// Not the WebSocket upgrade (its span would last as long as the connection and parent every
    /// message on it), nor scrapes and health probes (noise every few seconds).
    /// </summary>
    private static bool IsTracedRequest(HttpContext context)
    {
        var path = context.Request.Path;
        return !path.StartsWithSegments("/ws") && !path.StartsWithSegments("/metrics") && !path.StartsWithSegments("/health");
    }
}
