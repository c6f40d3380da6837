using System.Net.WebSockets;
using Messaging.Contracts.Protocol;
using Messaging.Edge.Devices;
using Messaging.Edge.Sockets;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Messaging.Edge.Drain;

/// <summary>
/// Graceful drain on SIGTERM (docs/operations.md, "Graceful drain"). Runs in
/// <see cref="IHostedLifecycleService.StoppingAsync"/>, before any hosted service stops and while
/// Kestrel and the delivery consumer still run: (1) new sockets are refused (503 <c>unavailable</c>)
/// and readiness turns false; (2) every local session is announced offline and acknowledged, so
/// the Router stops routing here at once instead of after <c>Edge:SessionLeaseSeconds</c>;
/// (3) every socket is closed with 1001 and <c>reconnect {Edge:DrainReconnectUrl}</c>; (4) the node
/// waits until its sockets are gone, at most <c>Edge:DrainTimeoutMs</c>. Nothing is lost either
/// way: what a closed device missed waits in its inbox for the sync on the next node.
/// </summary>
internal sealed partial class EdgeDrain(
    ConnectionRegistry registry,
    SessionAnnouncer sessions,
    IOptions<EdgeOptions> options,
    TimeProvider clock,
    ILogger<EdgeDrain> logger) : IHostedLifecycleService, IHealthCheck
{
    /// <summary>How often the drain looks whether its sockets are gone.</summary>
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(20);

    private volatile bool _draining;

    /// <summary>True from the stop signal on: new sockets are refused.</summary>
    public bool IsDraining => _draining;

    /// <summary>The close reason of a draining node's 1001: where to reconnect, when configured.</summary>
    public static string CloseReason(EdgeOptions options) =>
        options.DrainReconnectUrl.Length > 0 ? "reconnect " + options.DrainReconnectUrl : "server shutting down";

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        _draining = true;
        var started = clock.GetTimestamp();
        var bound = TimeSpan.FromMilliseconds(options.Value.DrainTimeoutMs);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(bound);
        var withdrawn = await sessions.WithdrawAllAsync(timeout.Token);

        var reason = CloseReason(options.Value);
        foreach (var connection in registry.Connections)
        {
            connection.Close((int)WebSocketCloseStatus.EndpointUnavailable, reason);
        }

        while (registry.Count > 0 && clock.GetElapsedTime(started) < bound && !cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(PollInterval, clock, CancellationToken.None);
        }

        var elapsed = clock.GetElapsedTime(started);
        LogDrained(logger, withdrawn, registry.Count, elapsed);
    }

    /// <summary>Readiness: false while draining, so a load balancer stops sending new clients here.</summary>
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(_draining ? HealthCheckResult.Unhealthy("draining") : HealthCheckResult.Healthy());

    /// <summary>The answer to a socket request while draining.</summary>
    public static IResult Refusal(EdgeOptions options)
    {
        var detail = options.DrainReconnectUrl.Length > 0 ? "this node is shutting down; reconnect to " + options.DrainReconnectUrl : "this node is shutting down";
        return Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, detail: detail, extensions: new Dictionary<string, object?> { ["code"] = ErrorCodes.Unavailable });
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 90, Level = LogLevel.Information, Message = "Drained: {Withdrawn} sessions withdrawn, {Left} sockets still open after {Elapsed}")]
    private static partial void LogDrained(ILogger logger, int withdrawn, int left, TimeSpan elapsed);
}
