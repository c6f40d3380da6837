using Messaging.Edge.Auth;
using Messaging.Edge.Commands;
using Messaging.Edge.Conversation;
using Messaging.Edge.Delivery;
using Messaging.Edge.Devices;
using Messaging.Edge.Drain;
using Messaging.Edge.EventStream;
using Messaging.Edge.History;
using Messaging.Edge.Media;
using Messaging.Edge.Presence;
using Messaging.Edge.RateLimits;
using Messaging.Edge.Sockets;
using Messaging.Edge.Sync;
using Messaging.Edge.WebClient;
using Messaging.ReadModels;
using Microsoft.Extensions.Options;

namespace Messaging.Edge;

public static class EdgeExtensions
{
    /// <summary>Everything an Edge node runs; expects AddServiceDefaults and AddMessagingPostgres.</summary>
    public static IHostApplicationBuilder AddEdge(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<EdgeOptions>()
            .Bind(builder.Configuration.GetSection(EdgeOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<EdgeOptions>, EdgeOptionsValidator>();
        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<UnavailableExceptionHandler>();

        // Hosted services start in registration order: topics exist before the device table and
        // the delivery consumer read them.
        builder.Services.AddHostedService<TopicBootstrap>();
        builder.AddReadModels();
        builder.AddEdgeAuth();
        builder.AddEdgeRateLimits();
        builder.AddEdgeCommands();
        builder.AddEdgeDevices();
        builder.AddEdgeConversation();
        builder.AddEdgePresence();
        builder.AddEdgeDelivery();
        builder.AddEdgeSync();
        builder.AddEdgeHistory();
        builder.AddEdgeMedia();
        builder.AddEdgeSockets();
        builder.AddEdgeEventStream();
        builder.AddEdgeWebClient();
        builder.AddEdgeDrain();
        return builder;
    }

    public static WebApplication MapEdge(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseEdgeWebClient();
        app.UseEdgeDirectSocketWrites();
        app.UseWebSockets();
        app.UseAuthentication();
        app.UseRemovedDeviceRefusal();
        app.UseRateLimiter();
        app.UseAuthorization();
        app.MapDevTokens();
        app.MapEdgeSockets();
        app.MapEdgeEventStream();
        app.MapEdgeHistory();
        app.MapEdgeMedia();
        app.MapEdgePresence();
        return app;
    }
}
