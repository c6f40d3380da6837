using Messaging.Hosting;
using Messaging.Hosting.Kafka;
using Messaging.Projections.Archive;
using Messaging.Projections.Chats;
using Messaging.Projections.DeadLetters;
using Messaging.Projections.Inbox;

using Messaging.Projections.Presence;
using Messaging.Projections.Rebuild;
using Messaging.Projections.Retention;
using Messaging.Projections.Runtime;
using Messaging.Projections.Status;
using Messaging.ReadModels;
using Microsoft.Extensions.Options;

namespace Messaging.Projections;

public static class ProjectionsExtensions
{
    /// <summary>The service: migrations at start, one runner per configured projection, retention, status.</summary>
    public static IHostApplicationBuilder AddProjections(this IHostApplicationBuilder builder)
    {
        builder.AddProjectionsCore();
        builder.AddPostgresHealthCheck();
        // Registration order is start order: the schema exists before any runner reads a checkpoint.
        builder.Services.AddHostedService<MigrationHostedService>();
        var runners = builder.Configuration.GetSection(ProjectionsOptions.Section).Get<ProjectionsOptions>() ?? new ProjectionsOptions();
        foreach (var name in runners.RunnerNames())
        {
            builder.Services.AddSingleton<IHostedService>(sp => ActivatorUtilities.CreateInstance<ProjectionRunner>(sp, Projection(sp, name)));
        }

        // A chat list waiting for a device's cursor cuts the inbox runner's lingering page.
        builder.Services.AddSingleton(sp => new LingerCut(TimeSpan.FromMilliseconds(sp.GetRequiredService<IOptions<ProjectionsOptions>>().Value.InboxFlushPollMs)));
        if (runners.InboxLingers)
        {
            builder.Services.AddHostedService<CursorFlushListener>();
        }

        builder.Services.AddHostedService<RetentionService>();
        builder.AddArchiver();
        return builder;
    }

    /// <summary>What the service and the CLI share: options, projections, stores (no hosted services).</summary>
    internal static IHostApplicationBuilder AddProjectionsCore(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ProjectionsOptions>()
            .Bind(builder.Configuration.GetSection(ProjectionsOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddOptions<RetentionOptions>()
            .Bind(builder.Configuration.GetSection(RetentionOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddOptions<RebuildOptions>()
            .Bind(builder.Configuration.GetSection(RebuildOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<IProjection, InboxProjection>();
        builder.Services.AddSingleton<IProjection, ChatProjection>();
        builder.Services.AddSingleton<IProjection, PresenceProjection>();
        builder.Services.AddSingleton<ProjectionMetrics>();
        builder.AddReadModels();
        builder.Services.AddSingleton<DeadLetterStore>();
        builder.Services.AddSingleton<RetentionSweeper>();
        builder.Services.AddSingleton<RebuildRunner>();
        builder.Services.AddSingleton<StatusQuery>();
        builder.AddArchiveCore();
        return builder;
    }

    public static WebApplication MapProjections(this WebApplication app)
    {
        app.MapGet("/v1/projections/status", async (StatusQuery status, CancellationToken cancellationToken) =>
            Results.Ok(await status.QueryAsync(cancellationToken)));
        return app;
    }

    internal static IProjection Projection(IServiceProvider services, string name)
    {
        foreach (var p in services.GetServices<IProjection>())
        {
            if (p.Name == name)
            {
                return p;
            }
        }

        throw new InvalidOperationException($"Unknown projection '{name}'.");
    }
}
