using System.Buffers;
using System.Buffers.Text;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net.WebSockets;
using System.Text;
using Messaging.Contracts.Protocol;
using Messaging.Edge.Auth;
using Messaging.Edge.Sockets;
using Messaging.Edge.Telemetry;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace Messaging.Edge.EventStream;

/// <summary>
/// The HTTP fallback for networks that break WebSockets (docs/protocol.md, "HTTP fallback"):
/// <c>GET /v1/events</c> streams the device's frames as Server-Sent Events, <c>POST /v1/commands</c>
/// takes one client frame per request. A session is a <see cref="Connection"/> run by the same
/// <see cref="SessionHost"/> as a socket: same registration, replacement, validation, limits.
/// </summary>
internal sealed class EventStreamEndpoint(
    SessionHost host,
    ConnectionRegistry registry,
    IOptions<EventStreamOptions> options,
    TimeProvider clock,
    IHostApplicationLifetime lifetime,
    EdgeMetrics metrics,
    ILogger<EventStreamEndpoint> logger)
{
    private const string NoSession = "no_session";

    private static readonly byte[] IdField = "id: "u8.ToArray();
    private static readonly byte[] DataField = "\ndata: "u8.ToArray();
    private static readonly byte[] EventEnd = "\n\n"u8.ToArray();
    private static readonly byte[] KeepAliveLine = ":\n\n"u8.ToArray();

    private readonly EventStreamOptions _options = options.Value;
    private readonly ConcurrentDictionary<string, EventStreamSession> _sessions = new(StringComparer.Ordinal);
    private int _watchingShutdown;

    /// <summary>Sessions of this node's event streams (attached or waiting for a resume).</summary>
    public int Count => _sessions.Count;

    public async Task StreamAsync(HttpContext context)
    {
        if (host.DrainRefusal() is { } draining)
        {
            await draining.ExecuteAsync(context);
            return;
        }

        if (Interlocked.Exchange(ref _watchingShutdown, 1) == 0)
        {
            // Sessions waiting for a resume have no request to end them: the node ends them while
            // its producer is still there (a resume timer firing after shutdown produced to a
            // disposed librdkafka handle and crashed the process).
            lifetime.ApplicationStopping.Register(EndAll);
        }

        var aborted = context.RequestAborted;
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        // Reverse proxies (nginx) buffer responses by default; an event stream must not wait.
        response.Headers["X-Accel-Buffering"] = "no";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();

        var (session, afterId) = FindResumable(context);
        var resumed = session is not null;
        if (session is null)
        {
            session = await OpenAsync(context);
            if (session is null)
            {
                return;
            }
        }

        try
        {
            using var attachment = await session.AttachAsync(aborted);
            var writer = response.BodyWriter;
            WriteText(writer, $"retry: {_options.RetryMs}\nevent: session\ndata: {{\"sessionId\":\"{session.SessionId}\",\"resumed\":{(resumed ? "true" : "false")}}}\n\n");
            if (resumed)
            {
                EventStreamLog.Resumed(logger, session.Connection.Address, session.SessionId, afterId);
                await ReplayAsync(session, afterId, writer, attachment.Token);
            }

            await PumpAsync(session, writer, attachment.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException)
        {
            // The peer went, or a newer stream took the session: it waits for a resume.
        }
    }

    /// <summary>
    /// <c>POST /v1/commands</c>: one client frame (the body, JSON) for the caller's event-stream
    /// session on this node. 202 once admitted; the reply and any error come on the event stream,
    /// as they would on the socket. 409 <c>no_session</c> when this node has no event stream of the device.
    /// </summary>
    public async Task<IResult> PostAsync(HttpContext context)
    {
        var device = context.User.Device();
        if (!registry.TryGet(device.Address, out var connection) || !_sessions.TryGetValue(connection.SessionId, out var session) || session.IsEnded)
        {
            return Problems.Of(StatusCodes.Status409Conflict, NoSession, "no event stream of this device on this node: open GET /v1/events first (on the same node)");
        }

        var max = host.MaxFrameBytes;
        var reader = context.Request.BodyReader;
        while (true)
        {
            var read = await reader.ReadAsync(context.RequestAborted);
            var buffer = read.Buffer;
            if (buffer.Length > max)
            {
                host.TooLarge(connection, buffer.Slice(0, Math.Min(buffer.Length, max)).ToArray());
                reader.AdvanceTo(buffer.End);
                return Results.Accepted();
            }

            if (read.IsCompleted)
            {
                var admitted = Admit(session, buffer, out var frame);
                reader.AdvanceTo(buffer.End);
                if (admitted)
                {
                    await host.SubmitAsync(connection, frame, session.Lifetime);
                }

                return Results.Accepted();
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private bool Admit(EventStreamSession session, ReadOnlySequence<byte> body, out ClientFrame frame)
    {
        if (body.IsSingleSegment)
        {
            return host.TryAdmit(session.Connection, body.FirstSpan, out frame);
        }

        var rented = ArrayPool<byte>.Shared.Rent((int)body.Length);
        try
        {
            body.CopyTo(rented);
            return host.TryAdmit(session.Connection, rented.AsSpan(0, (int)body.Length), out frame);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>A session of the caller's device named by <c>Last-Event-ID</c> (<c>{sessionId}.{n}</c>) that is still waiting.</summary>
    private (EventStreamSession? Session, long AfterId) FindResumable(HttpContext context)
    {
        var lastEventId = context.Request.Headers["Last-Event-ID"].ToString();
        var dot = lastEventId.LastIndexOf('.');
        if (dot <= 0 || !long.TryParse(lastEventId.AsSpan(dot + 1), out var afterId)
            || !_sessions.TryGetValue(lastEventId[..dot], out var session) || session.IsEnded
            || session.Connection.Address != context.User.Device().Address
            || session.Connection.IsClosing || !registry.IsCurrent(session.Connection))
        {
            return (null, 0);
        }

        return (session, afterId);
    }

    /// <summary>A new session, started like a socket's; null when refused (the reason and a close event are written).</summary>
    private async Task<EventStreamSession?> OpenAsync(HttpContext context)
    {
        var connection = host.Create(context);
        var session = new EventStreamSession(connection, _options, clock, expired => _ = EndAsync(expired));
        var expiry = host.WatchExpiry(connection, context);
        session.Lifetime.Register(expiry.Dispose);
        _sessions[session.SessionId] = session;
        bool started;
        try
        {
            started = await host.StartAsync(connection, context.RequestAborted);
        }
        catch (OperationCanceledException)
        {
            started = false;
        }

        if (started)
        {
            return session;
        }

        // Refused (too many devices, removed, unavailable): the error frame, then the close code.
        if (!context.RequestAborted.IsCancellationRequested)
        {
            WriteText(context.Response.BodyWriter, $"retry: {_options.RetryMs}\n\n");
            await PumpAsync(session, context.Response.BodyWriter, context.RequestAborted);
        }
        else
        {
            await EndAsync(session);
        }

        return null;
    }

    private async Task ReplayAsync(EventStreamSession session, long afterId, PipeWriter writer, CancellationToken cancellationToken)
    {
        var frames = new List<(long Id, SharedFrame Frame)>();
        if (!session.TryReplay(afterId, frames))
        {
            // Should not happen (FindResumable checked the id is known); the frames are in the inbox anyway.
            return;
        }

        try
        {
            foreach (var (id, frame) in frames)
            {
                WriteEvent(writer, session.SessionId, id, frame);
                metrics.FrameOut(frame.Type);
            }

            await writer.FlushAsync(cancellationToken);
        }
        finally
        {
            foreach (var (_, frame) in frames)
            {
                frame.Release();
            }
        }
    }

    /// <summary>Writes the session's frames until the stream is cancelled (it detaches) or the session closes (a close event, then the end).</summary>
    private async Task PumpAsync(EventStreamSession session, PipeWriter writer, CancellationToken cancellationToken)
    {
        var queue = session.Connection.Queue;
        await writer.FlushAsync(cancellationToken);
        while (true)
        {
            using (var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                idle.CancelAfter(_options.KeepAlive);
                bool more;
                try
                {
                    more = await queue.WaitToDequeueAsync(idle.Token);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    writer.Write(KeepAliveLine);
                    await writer.FlushAsync(cancellationToken);
                    continue;
                }

                if (!more)
                {
                    break;
                }
            }

            while (!cancellationToken.IsCancellationRequested && queue.TryDequeue(out var frame))
            {
                try
                {
                    if (session.Connection.CloseCode != CloseCodes.SlowConsumer)
                    {
                        WriteEvent(writer, session.SessionId, session.Record(frame), frame);
                        metrics.FrameOut(frame.Type);
                    }
                }
                finally
                {
                    frame.Release();
                }
            }

            await writer.FlushAsync(cancellationToken);
        }

        // The session closed (replaced, token expired, removed, slow consumer): say why, like a
        // close frame, so the client does not let EventSource reconnect blindly.
        var code = session.Connection.CloseCode == 0 ? (int)WebSocketCloseStatus.NormalClosure : session.Connection.CloseCode;
        WriteText(writer, $"event: close\ndata: {{\"code\":{code},\"reason\":\"{session.Connection.CloseReason}\"}}\n\n");
        await writer.FlushAsync(CancellationToken.None);
        await EndAsync(session);
    }

    /// <summary>The node is stopping: every session ends (1001, reconnect elsewhere), its offline record written.</summary>
    private void EndAll()
    {
        var ending = new List<Task>();
        foreach (var session in _sessions.Values)
        {
            session.Connection.Close((int)WebSocketCloseStatus.EndpointUnavailable, "server shutting down");
            ending.Add(EndAsync(session));
        }

        // Each ends within Edge:ProduceTimeoutMs (the offline record's produce).
        Task.WaitAll(ending);
    }

    private async Task EndAsync(EventStreamSession session)
    {
        if (!session.TryEnd())
        {
            return;
        }

        _sessions.TryRemove(new KeyValuePair<string, EventStreamSession>(session.SessionId, session));
        var connection = session.Connection;
        connection.Close((int)WebSocketCloseStatus.NormalClosure, "");
        connection.Queue.DropPending();
        await host.EndAsync(connection);
        EdgeLog.Disconnected(logger, connection.Device.UserId, connection.Device.DeviceId, connection.CloseCode);
        session.Dispose();
        connection.Dispose();
    }

    private static void WriteEvent(PipeWriter writer, string sessionId, long id, SharedFrame frame)
    {
        writer.Write(IdField);
        var span = writer.GetSpan(sessionId.Length + 21);
        var length = Encoding.ASCII.GetBytes(sessionId, span);
        span[length++] = (byte)'.';
        Utf8Formatter.TryFormat(id, span[length..], out var digits);
        writer.Advance(length + digits);
        writer.Write(DataField);
        // Frames are compact JSON: no raw line breaks (strings escape them), so one data line each.
        writer.Write(frame.Memory.Span);
        writer.Write(EventEnd);
    }

    private static void WriteText(PipeWriter writer, string text) => writer.Write(Encoding.UTF8.GetBytes(text));
}

internal static partial class EventStreamLog
{
    [LoggerMessage(EventId = 400, Level = LogLevel.Debug, Message = "Event stream of {Address} resumed session {SessionId} after event {AfterId}")]
    public static partial void Resumed(ILogger logger, string address, string sessionId, long afterId);
}
