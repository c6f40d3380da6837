using Messaging.Edge.Telemetry;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Options;

namespace Messaging.Edge.Sockets;

public static class SocketsExtensions
{
    public static IHostApplicationBuilder AddEdgeSockets(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<ConnectionRegistry>();
        builder.Services.AddSingleton<EdgeMetrics>();
        builder.Services.AddSingleton<FrameDispatcher>();
        builder.Services.AddSingleton<SessionHost>();
        builder.Services.AddSingleton<TokenExpiries>();
        builder.Services.AddSingleton<PushLanes>();
        builder.Services.AddOptions<SocketTransportOptions>().Configure<IOptions<EdgeOptions>>(DirectWriteUpgrade.ConfigureTransport);
        builder.Services.AddSingleton<SocketEndpoint>();
        return builder;
    }

    /// <summary>WebSocket pushes straight to the socket (<c>Edge:DirectSocketWrites</c>); before <c>UseWebSockets</c>.</summary>
    public static IApplicationBuilder UseEdgeDirectSocketWrites(this IApplicationBuilder app) => DirectWriteUpgrade.UseDirectSocketWrites(app);

    /// <summary><c>GET /ws</c>: the WebSocket endpoint (bearer token required: 401 before the upgrade otherwise).</summary>
    public static IEndpointRouteBuilder MapEdgeSockets(this IEndpointRouteBuilder app)
    {
        app.Map("/ws", (HttpContext context, SocketEndpoint endpoint) => endpoint.HandleAsync(context)).RequireAuthorization();
        return app;
    }
}
