using System.Net.Sockets;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
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
        // Kestrel awaits the flush of its 101 response before it returns the stream, and with
        // ConfigureTransport's buffer that flush completes only once its socket sender took the
        // bytes: nothing of Kestrel's is left to write, so from here the socket's send side is the
        // writer's alone.
        var upgraded = await inner.UpgradeAsync();
        Writer = new SocketFrameWriter(socket);
        return new DirectWriteStream(upgraded, Writer);
    }

    /// <summary>
    /// Kestrel's socket transport buffers up to 64 KiB between a flush and its socket sender, so
    /// a flush returned before the bytes reached the socket: the first pushes written straight to
    /// the socket overtook the 101 response still in that buffer (a client read a frame before
    /// "HTTP/1.1 101" in a fresh-clone test run). With a 2-byte buffer a flush waits until the
    /// sender took everything (the pipe resumes a writer below half the buffer, 1 byte). It only
    /// makes Kestrel's own flushes (HTTP responses, the event stream) wait for their send.
    /// </summary>
    public static void ConfigureTransport(SocketTransportOptions transport, IOptions<EdgeOptions> edge)
    {
        if (edge.Value.DirectSocketWrites)
        {
            transport.MaxWriteBufferSize = 2;
        }
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
                && HttpProtocol.IsHttp11(context.Request.Protocol)
                && context.Features.Get<IConnectionSocketFeature>()?.Socket is { } socket)
            {
                context.Features.Set<IHttpUpgradeFeature>(new DirectWriteUpgrade(upgrade, socket));
            }

            return next(context);
        });
    }
}
