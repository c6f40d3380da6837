using System.Net.Sockets;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace Messaging.Edge.Sockets;

/// <summary>
/// Kestrel's upgrade, with the upgraded stream's writes going straight to the TCP socket (see
/// <see cref="SocketFrameWriter"/>). Installed before <c>UseWebSockets</c>, which takes the upgrade
/// feature when a request arrives; ASP.NET Core's own handshake still runs.
/// </summary>
internal sealed class DirectWriteUpgrade(IHttpUpgradeFeature inner, Socket socket) : IHttpUpgradeFeature
{
    public bool IsUpgradableRequest => inner.IsUpgradableRequest;

    /// <summary>The connection's writer, once upgraded.</summary>
    public SocketFrameWriter? Writer { get; private set; }

    public async Task<Stream> UpgradeAsync()
    {
        // Kestrel flushes the 101 response before it returns the stream: nothing of its own is
        // left to write, so from here the socket's send side is the writer's alone.
        var upgraded = await inner.UpgradeAsync();
        Writer = new SocketFrameWriter(socket);
        return new DirectWriteStream(upgraded, Writer);
    }

    /// <summary>
    /// Writes pushes straight to the socket for WebSocket upgrades that allow it: HTTP/1.1 on a
    /// plain TCP socket of Kestrel's (TLS and HTTP/2 streams must pass through Kestrel), and
    /// <c>Edge:DirectSocketWrites</c> on.
    /// </summary>
    public static IApplicationBuilder UseDirectSocketWrites(IApplicationBuilder app)
    {
        var options = app.ApplicationServices.GetRequiredService<IOptions<EdgeOptions>>().Value;
        if (!options.DirectSocketWrites)
        {
            return app;
        }

        return app.Use((context, next) =>
        {
            if (context.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true } upgrade
                && !context.Request.IsHttps
                && HttpMethods.IsGet(context.Request.Method)
                && context.Request.Protocol == "HTTP/1.1"
                && context.Features.Get<IConnectionSocketFeature>()?.Socket is { } socket)
            {
                context.Features.Set<IHttpUpgradeFeature>(new DirectWriteUpgrade(upgrade, socket));
            }

            return next(context);
        });
    }
}
