using System.Buffers;
using System.Net.WebSockets;
using Messaging.Contracts.Protocol;
using Microsoft.AspNetCore.Http.Features;

namespace Messaging.Edge.Sockets;

/// <summary>
/// <c>GET /ws</c>: one authenticated device per socket. The session rules (connect order, expiry,
/// validation, limits) are <see cref="SessionHost"/>'s, shared with the HTTP fallback; this class
/// reads WebSocket messages and writes frames to the socket.
/// </summary>
internal sealed class SocketEndpoint(SessionHost host, ILogger<SocketEndpoint> logger)
{
    /// <summary>Most frames are small: rent this once a message arrives and grow up to Edge:MaxFrameBytes for the rare big one.</summary>
    private const int InitialReceiveBuffer = 4096;

    public async Task<IResult> HandleAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            return Problems.Of(StatusCodes.Status400BadRequest, Problems.BadRequest, "this endpoint only accepts WebSocket upgrades");
        }

        if (host.DrainRefusal() is { } draining)
        {
            return draining;
        }

        var aborted = context.RequestAborted;
        using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext { KeepAliveInterval = host.ArmKeepAlive(context) });
        using var connection = host.Create(context);
        if (context.Features.Get<IHttpUpgradeFeature>() is DirectWriteUpgrade { Writer: { } writer })
        {
            connection.WriteDirectly(writer);
        }

        var device = connection.Device;
        using var expiry = host.WatchExpiry(connection, context);
        var sendLoop = connection.RunSendLoopAsync(socket, aborted);
        try
        {
            if (await host.StartAsync(connection, aborted))
            {
                await ReceiveLoopAsync(socket, connection, aborted);
            }

            return Results.Empty;
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException)
        {
            EdgeLog.SocketFailed(logger, ex, device.UserId, device.DeviceId);
            return Results.Empty;
        }
        finally
        {
            connection.Close((int)WebSocketCloseStatus.NormalClosure, "");
            await host.EndAsync(connection);
            await sendLoop;
            EdgeLog.Disconnected(logger, device.UserId, device.DeviceId, connection.CloseCode);
        }
    }

    private async Task ReceiveLoopAsync(WebSocket socket, Connection connection, CancellationToken aborted)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(aborted, connection.CloseDeadline);
        var token = linked.Token;

        // Receives take no token, for the reason the send loop's sends take none (ManagedWebSocket
        // registered on a cancelable token at every receive, two per message here): aborting the
        // socket ends a receive in progress.
        using var abortOnCancel = token.UnsafeRegister(static socket => ((WebSocket)socket!).Abort(), socket);
        var max = host.MaxFrameBytes;
        while (!connection.IsClosing)
        {
            // Wait for the next message holding no buffer: a zero-byte receive completes when its
            // first bytes arrive (ManagedWebSocket passes it down to Kestrel, which waits the same
            // way on the socket). An idle socket used to hold a rented 4 KiB buffer for as long as
            // it stayed open: 4 of the 27 KiB Edge kept per idle connection (docs/benchmarks.md,
            // "Idle: what the broker is asked, and what an idle socket holds").
            var first = await socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None);
            if (first.MessageType == WebSocketMessageType.Close)
            {
                return;
            }

            var buffer = ArrayPool<byte>.Shared.Rent(InitialReceiveBuffer);
            var closed = false;
            try
            {
                (buffer, closed) = await ReceiveMessageAsync(socket, connection, first, buffer, max, token);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            if (closed)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Reads the rest of the message <paramref name="first"/> began and handles it; returns the
    /// buffer to give back (it may have grown for a big frame), and whether the peer closed instead.
    /// </summary>
    private async ValueTask<(byte[] Buffer, bool Closed)> ReceiveMessageAsync(WebSocket socket, Connection connection, ValueWebSocketReceiveResult first, byte[] buffer, int max, CancellationToken token)
    {
        var length = 0;
        var tooLarge = false;
        var result = first;
        while (!result.EndOfMessage)
        {
            Memory<byte> target;
            if (tooLarge)
            {
                // Skip the rest of an oversize message: WebSocket framing tells where it ends,
                // so the connection resynchronizes without a close.
                target = buffer;
            }
            else
            {
                if (length == buffer.Length)
                {
                    buffer = Grow(buffer, length, Math.Min(buffer.Length * 2, max + 1));
                }

                target = buffer.AsMemory(length);
            }

            result = await socket.ReceiveAsync(target, CancellationToken.None);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return (buffer, true);
            }

            if (!tooLarge)
            {
                length += result.Count;
                if (length > max)
                {
                    tooLarge = true;
                    host.TooLarge(connection, buffer.AsSpan(0, length));
                }
            }
        }

        // An oversize frame was answered above, while its start (its id) was in the buffer.
        if (!tooLarge && result.MessageType == WebSocketMessageType.Binary)
        {
            connection.TryPush(new ErrorFrame(null, ErrorCodes.BadFrame, "binary frames are not supported; send JSON text frames"));
        }
        else if (!tooLarge && host.TryAdmit(connection, buffer.AsSpan(0, length), out var frame))
        {
            await host.SubmitAsync(connection, frame, token);
        }

        return (buffer, false);
    }

    private static byte[] Grow(byte[] buffer, int length, int size)
    {
        var bigger = ArrayPool<byte>.Shared.Rent(size);
        buffer.AsSpan(0, length).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(buffer);
        return bigger;
    }
}
