using System.Buffers;
using System.Net.WebSockets;
using Messaging.Contracts.Protocol;
using Messaging.Edge.Auth;
using Messaging.Edge.Devices;
using Messaging.Edge.Presence;
using Messaging.Edge.RateLimits;
using Messaging.Edge.Telemetry;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Messaging.Edge.Sockets;

/// <summary>
/// <c>GET /ws</c>: one authenticated device per socket. Order on connect: register the device
/// (awaited), replace any older socket of the device on this node, announce the session
/// (awaited, so the Router can route here), and only then read frames.
/// </summary>
internal sealed class SocketEndpoint(
    DeviceDirectory devices,
    SessionAnnouncer sessions,
    FrameDispatcher dispatcher,
    PresenceWatches presence,
    IOptions<EdgeOptions> options,
    IOptions<Media.S3Options> s3,
    IOptions<AuthOptions> auth,
    TimeProvider clock,
    IOptions<RateLimitOptions> rateLimits,
    EdgeMetrics metrics,
    ILogger<SocketEndpoint> logger)
{
    /// <summary>Most frames are small: start with this and grow up to Edge:MaxFrameBytes for the rare big one.</summary>
    private const int InitialReceiveBuffer = 4096;

    private readonly EdgeOptions _options = options.Value;
    private readonly TimeSpan _clockSkew = auth.Value.ClockSkew;
    private readonly FrameLimits _limits = new(options.Value.MaxBodyBytes, options.Value.MaxIdLength, options.Value.HistoryMaxPageSize, s3.Value.MaxAttachmentBytes)
    {
        MaxPresenceUsers = options.Value.MaxPresenceWatches,
    };

    public async Task<IResult> HandleAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            return Problems.Of(StatusCodes.Status400BadRequest, Problems.BadRequest, "this endpoint only accepts WebSocket upgrades");
        }

        var device = context.User.Device();
        var tokenIssuedAt = context.User.TokenIssuedAt();
        var expiresAt = context.User.ExpiresAt() ?? clock.GetUtcNow();
        var aborted = context.RequestAborted;
        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        using var connection = new Connection(socket, device, _options, rateLimits.Value, metrics, logger) { TokenIssuedAt = tokenIssuedAt };
        using var expiry = new TokenExpiry(expiresAt + _clockSkew, clock, () =>
        {
            connection.TryPush(new ErrorFrame(null, ErrorCodes.TokenExpired, "the token expired; reconnect with a new one"));
            connection.Close(CloseCodes.Unauthorized, ErrorCodes.TokenExpired);
        });
        var sendLoop = connection.RunSendLoopAsync(aborted);
        var opened = false;
        try
        {
            var registration = await devices.EnsureRegisteredAsync(device, tokenIssuedAt, aborted);
            if (!registration.IsAccepted)
            {
                Refuse(connection, registration);
                return Results.Empty;
            }

            if (!await sessions.OnlineAsync(connection, aborted))
            {
                Unavailable(connection);
                return Results.Empty;
            }

            // A removal read between the registration and the socket joining the registry found no
            // socket to close: look once more now that it is there.
            if (devices.IsRemoved(device, tokenIssuedAt))
            {
                Refuse(connection, new DeviceCommandOutcome(ErrorCodes.DeviceRemoved, "this device was removed"));
                return Results.Empty;
            }

            EdgeLog.Connected(logger, device.UserId, device.DeviceId, connection.SessionId);
            metrics.Opened();
            opened = true;
            await ReceiveLoopAsync(socket, connection, aborted);
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
            presence.Forget(connection);
            await sessions.OfflineAsync(connection, CancellationToken.None);
            await sendLoop;
            EdgeLog.Disconnected(logger, device.UserId, device.DeviceId, connection.CloseCode);
            if (opened)
            {
                metrics.Closed(connection.CloseCode);
            }
        }
    }

    private async Task ReceiveLoopAsync(WebSocket socket, Connection connection, CancellationToken aborted)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(aborted, connection.CloseDeadline);
        var token = linked.Token;
        var max = _options.MaxFrameBytes;
        var buffer = ArrayPool<byte>.Shared.Rent(InitialReceiveBuffer);
        try
        {
            while (!connection.IsClosing)
            {
                var length = 0;
                var tooLarge = false;
                string? tooLargeId = null;
                ValueWebSocketReceiveResult result;
                while (true)
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

                    result = await socket.ReceiveAsync(target, token);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        return;
                    }

                    if (!tooLarge)
                    {
                        length += result.Count;
                        if (length > max)
                        {
                            tooLarge = true;
                            tooLargeId = FrameValidator.ReadId(buffer.AsSpan(0, length), _limits);
                        }
                    }

                    if (result.EndOfMessage)
                    {
                        break;
                    }
                }

                if (tooLarge)
                {
                    connection.TryPush(new ErrorFrame(tooLargeId, ErrorCodes.TooLarge, $"frames are limited to {max} bytes; this one was skipped"));
                }
                else if (result.MessageType == WebSocketMessageType.Binary)
                {
                    connection.TryPush(new ErrorFrame(null, ErrorCodes.BadFrame, "binary frames are not supported; send JSON text frames"));
                }
                else
                {
                    var check = FrameValidator.Validate(buffer.AsSpan(0, length), connection.Device.UserId, _limits);
                    if (check.Frame is not { } frame)
                    {
                        connection.TryPush(new ErrorFrame(check.Id, check.ErrorCode!, check.ErrorMessage!));
                    }
                    else if (!connection.RateLimits.TryAcquire(frame, out var retryAfter))
                    {
                        // Refused without closing: the client backs off and later requests work.
                        var retryAfterMs = (long)Math.Ceiling(retryAfter.TotalMilliseconds);
                        metrics.RateLimited(frame.GetType().Name);
                        EdgeLog.RateLimited(logger, connection.Address, frame.GetType().Name, retryAfterMs);
                        connection.TryPush(new ErrorFrame(frame.Id, ErrorCodes.RateLimited, "too many requests; retry after retryAfterMs", retryAfterMs));
                    }
                    else
                    {
                        metrics.FrameIn(frame.GetType().Name);
                        await connection.Inflight.WaitAsync(token);
                        _ = RunAsync(connection, frame, token);
                    }
                }

                if (buffer.Length > InitialReceiveBuffer)
                {
                    // Give a big buffer back after the rare big frame: idle sockets hold little memory.
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = ArrayPool<byte>.Shared.Rent(InitialReceiveBuffer);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Runs one request; its task starts synchronously, so its produce is issued in frame order.</summary>
    private async Task RunAsync(Connection connection, ClientFrame frame, CancellationToken cancellationToken)
    {
        try
        {
            await dispatcher.DispatchAsync(connection, frame, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (NpgsqlException ex)
        {
            EdgeLog.RequestFailed(logger, ex, frame.GetType().Name, connection.Device.UserId, connection.Device.DeviceId);
            connection.TryPush(new ErrorFrame(frame.Id, ErrorCodes.Unavailable, "the read models are unavailable; retry"));
        }
        catch (Exception ex)
        {
            EdgeLog.RequestFailed(logger, ex, frame.GetType().Name, connection.Device.UserId, connection.Device.DeviceId);
            connection.TryPush(new ErrorFrame(frame.Id, ErrorCodes.Internal, "the request failed"));
        }
        finally
        {
            connection.Inflight.Release();
        }
    }

    /// <summary>The socket was upgraded so the client can read why: an error frame, then the close code of the refusal.</summary>
    private void Refuse(Connection connection, DeviceCommandOutcome refusal)
    {
        EdgeLog.DeviceRefused(logger, connection.Device.UserId, connection.Device.DeviceId, refusal.Code!);
        switch (refusal.Code)
        {
            case ErrorCodes.TooManyDevices:
                connection.TryPush(new ErrorFrame(null, ErrorCodes.TooManyDevices, refusal.Message ?? "too many devices; remove one first"));
                connection.Close(CloseCodes.TooManyDevices, "too many devices");
                break;
            case ErrorCodes.DeviceRemoved:
                connection.TryPush(new ErrorFrame(null, ErrorCodes.DeviceRemoved, refusal.Message ?? "this device was removed"));
                connection.Close(CloseCodes.DeviceRemoved, "device removed");
                break;
            case ErrorCodes.Unavailable:
                Unavailable(connection);
                break;
            default:
                // bad_frame: ids in the token the Router does not accept.
                connection.TryPush(new ErrorFrame(null, refusal.Code!, refusal.Message ?? "the device cannot be registered"));
                connection.Close(CloseCodes.Unauthorized, "device refused");
                break;
        }
    }

    private static void Unavailable(Connection connection)
    {
        connection.TryPush(new ErrorFrame(null, ErrorCodes.Unavailable, "the log is unavailable; reconnect later"));
        connection.Close((int)WebSocketCloseStatus.InternalServerError, "unavailable");
    }

    private static byte[] Grow(byte[] buffer, int length, int size)
    {
        var bigger = ArrayPool<byte>.Shared.Rent(size);
        buffer.AsSpan(0, length).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(buffer);
        return bigger;
    }
}
