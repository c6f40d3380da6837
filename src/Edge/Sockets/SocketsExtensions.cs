using Messaging.Edge.Telemetry;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;

namespace Messaging.Edge.Sockets;

public static class SocketsExtensions
{
    public static IHostApplicationBuilder AddEdgeSockets(this IHostApplicationBuilder builder)
    {
        // Kestrel's socket transport from configuration (Kestrel:Sockets), so its scheduling can be
        // chosen per deployment (docs/operations.md).
        builder.Services.Configure<SocketTransportOptions>(builder.Configuration.GetSection("Kestrel:Sockets"));
        builder.Services.AddSingleton<ConnectionRegistry>();
        builder.Services.AddSingleton<EdgeMetrics>();
        builder.Services.AddSingleton<FrameDispatcher>();
        builder.Services.AddSingleton<SessionHost>();
        builder.Services.AddSingleton<SocketEndpoint>();
        return builder;
    }

    /// <summary><c>GET /ws</c>: the WebSocket endpoint (bearer token required: 401 before the upgrade otherwise).</summary>
    public static IEndpointRouteBuilder MapEdgeSockets(this IEndpointRouteBuilder app)
    {
        app.Map("/ws", (HttpContext context, SocketEndpoint endpoint) => endpoint.HandleAsync(context)).RequireAuthorization();
        return app;
    }
}
