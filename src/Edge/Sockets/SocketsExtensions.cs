using Messaging.Edge.Telemetry;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;

namespace Messaging.Edge.Sockets;

public static class SocketsExtensions
{
    public static IHostApplicationBuilder AddEdgeSockets(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<ConnectionRegistry>();
        builder.Services.AddSingleton<EdgeMetrics>();
        builder.Services.AddSingleton<FrameDispatcher>();
        builder.Services.AddSingleton<SessionHost>();
        builder.Services.AddSingleton<SocketEndpoint>();
        builder.Services.Configure<SocketTransportOptions>(transport =>
            transport.UnsafePreferInlineScheduling = builder.Configuration.GetValue<bool>($"{EdgeOptions.Section}:{nameof(EdgeOptions.InlineSocketScheduling)}"));
        return builder;
    }

    /// <summary><c>GET /ws</c>: the WebSocket endpoint (bearer token required: 401 before the upgrade otherwise).</summary>
    public static IEndpointRouteBuilder MapEdgeSockets(this IEndpointRouteBuilder app)
    {
        app.Map("/ws", (HttpContext context, SocketEndpoint endpoint) => endpoint.HandleAsync(context)).RequireAuthorization();
        return app;
    }
}
