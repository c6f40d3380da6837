using System.Net.WebSockets;
using Messaging.Contracts.Protocol;
using Messaging.Edge.Auth;
using Messaging.Edge.Devices;
using Messaging.Edge.Presence;
using Messaging.Edge.RateLimits;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Messaging.Edge.Sockets;

/// <summary>
/// The per-device session rules, whatever carries the frames (a WebSocket, or the HTTP fallback's
/// event stream and command posts): the connect order (register the device, replace an older
/// session, announce it, check removal once more), the token's expiry, each frame's validation,
/// rate limit and in-flight bound, and the offline announcement at the end. One copy, so both
/// transports refuse, limit and route the same way.
/// </summary>
internal sealed class SessionHost(
    DeviceDirectory devices,
    SessionAnnouncer sessions,
    FrameDispatcher dispatcher,
    PresenceWatches presence,
    Conversation.ConversationHandler conversation,
    Drain.EdgeDrain drain,
    Telemetry.EdgeMetrics metrics,
    IOptions<EdgeOptions> options,
    IOptions<Media.S3Options> s3,
    IOptions<AuthOptions> auth,
    TimeProvider clock,
    TokenExpiries expiries,
    IOptions<RateLimitOptions> rateLimits,
    ILogger<SessionHost> logger)
{
    private readonly EdgeOptions _options = options.Value;
    private readonly TimeSpan _clockSkew = auth.Value.ClockSkew;

    public FrameLimits Limits { get; } = new(options.Value.MaxBodyBytes, options.Value.MaxIdLength, options.Value.HistoryMaxPageSize, s3.Value.MaxAttachmentBytes)
    {
        MaxPresenceUsers = options.Value.MaxPresenceWatches,
    };

    public int MaxFrameBytes => _options.MaxFrameBytes;

    /// <summary>Arms the connection's keep-alive (<see cref="TcpKeepAlive"/>); returns the interval left to the WebSocket.</summary>
    public TimeSpan ArmKeepAlive(HttpContext context) => TcpKeepAlive.Arm(context, _options);

    /// <summary>The answer to a new session while the node drains (503 <c>unavailable</c>, where to reconnect); null otherwise.</summary>
    public IResult? DrainRefusal() => drain.IsDraining ? Drain.EdgeDrain.Refusal(_options) : null;

    /// <summary>A session of the authenticated device of <paramref name="context"/>; not yet online.</summary>
    public Connection Create(HttpContext context) =>
        new(context.User.Device(), _options, rateLimits.Value, metrics, logger) { TokenIssuedAt = context.User.TokenIssuedAt() };

    /// <summary>At the token's <c>exp</c> (+ clock skew): <c>error token_expired</c>, then close 4001.</summary>
    public TokenExpiry WatchExpiry(Connection connection, HttpContext context) =>
        expiries.Watch((context.User.ExpiresAt() ?? clock.GetUtcNow()) + _clockSkew, () =>
        {
            connection.TryPush(new ErrorFrame(null, ErrorCodes.TokenExpired, "the token expired; reconnect with a new one"));
            connection.Close(CloseCodes.Unauthorized, ErrorCodes.TokenExpired);
        });

    /// <summary>
    /// Registers the device (awaited), makes this its session on the node and announces it (awaited,
    /// so the Router routes here) before any frame is served. False: refused or unavailable; the
    /// reason is queued as an error frame and the connection is closing.
    /// </summary>
    public async Task<bool> StartAsync(Connection connection, CancellationToken cancellationToken)
    {
        var device = connection.Device;
        var registration = await devices.EnsureRegisteredAsync(device, connection.TokenIssuedAt, cancellationToken);
        if (!registration.IsAccepted)
        {
            Refuse(connection, registration);
            return false;
        }

        if (!await sessions.OnlineAsync(connection, cancellationToken))
        {
            Unavailable(connection);
            return false;
        }

        // A session that came in while the drain was withdrawing the others: send it on too.
        if (drain.IsDraining)
        {
            connection.Close((int)WebSocketCloseStatus.EndpointUnavailable, Drain.EdgeDrain.CloseReason(_options));
            return false;
        }

        // A removal read between the registration and the session joining the registry found no
        // session to close: look once more now that it is there.
        if (devices.IsRemoved(device, connection.TokenIssuedAt))
        {
            Refuse(connection, new DeviceCommandOutcome(ErrorCodes.DeviceRemoved, "this device was removed"));
            return false;
        }

        EdgeLog.Connected(logger, device.UserId, device.DeviceId, connection.SessionId);
        metrics.Opened();
        connection.Started = true;
        return true;
    }

    /// <summary>The session is over: no more presence pushes, typing stopped where it was on, and the device offline unless a newer session replaced it.</summary>
    public async Task EndAsync(Connection connection)
    {
        presence.Forget(connection);
        await conversation.StopTypingAsync(connection);
        await sessions.OfflineAsync(connection, CancellationToken.None);
        if (connection.Started)
        {
            metrics.Closed(connection.CloseCode);
        }
    }

    /// <summary>
    /// Validates one client frame and takes it from the device's budget; false (with the error
    /// frame queued) when it is malformed or rate limited. The connection stays open either way.
    /// </summary>
    public bool TryAdmit(Connection connection, ReadOnlySpan<byte> json, out ClientFrame frame)
    {
        var check = FrameValidator.Validate(json, connection.Device.UserId, Limits);
        if (check.Frame is not { } valid)
        {
            connection.TryPush(new ErrorFrame(check.Id, check.ErrorCode!, check.ErrorMessage!));
            frame = null!;
            return false;
        }

        frame = valid;
        if (!connection.RateLimits.TryAcquire(valid, out var retryAfter))
        {
            // Refused without closing: the client backs off and later requests work.
            var retryAfterMs = (long)Math.Ceiling(retryAfter.TotalMilliseconds);
            metrics.RateLimited(valid.GetType().Name);
            EdgeLog.RateLimited(logger, connection.Address, valid.GetType().Name, retryAfterMs);
            connection.TryPush(new ErrorFrame(valid.Id, ErrorCodes.RateLimited, "too many requests; retry after retryAfterMs", retryAfterMs));
            return false;
        }

        metrics.FrameIn(valid.GetType().Name);
        return true;
    }

    /// <summary>A frame over <c>Edge:MaxFrameBytes</c> was skipped: <c>too_large</c> with its id when it could be read.</summary>
    public void TooLarge(Connection connection, ReadOnlySpan<byte> start) =>
        connection.TryPush(new ErrorFrame(FrameValidator.ReadId(start, Limits), ErrorCodes.TooLarge, $"frames are limited to {_options.MaxFrameBytes} bytes; this one was skipped"));

    /// <summary>
    /// Waits for a free in-flight slot (the connection's bound), then starts the request; its task
    /// starts synchronously, so requests are produced in the order they were submitted.
    /// </summary>
    public async ValueTask SubmitAsync(Connection connection, ClientFrame frame, CancellationToken cancellationToken)
    {
        await connection.Inflight.WaitAsync(cancellationToken);
        _ = RunAsync(connection, frame, cancellationToken);
    }

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

    /// <summary>The client can read why: an error frame, then the close code of the refusal.</summary>
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
}
