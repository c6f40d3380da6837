using System.Globalization;
using System.Security.Claims;
using System.Threading.RateLimiting;
using Messaging.Contracts.Protocol;
using Messaging.Edge.Telemetry;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Messaging.Edge.RateLimits;

public static class RateLimitsExtensions
{
    /// <summary>Rate-limit options (<c>RateLimits</c>) and the HTTP limiter (per IP: upgrades and dev tokens; per user: new connections).</summary>
    public static IHostApplicationBuilder AddEdgeRateLimits(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<RateLimitOptions>()
            .Bind(builder.Configuration.GetSection(RateLimitOptions.Section))
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<RateLimitOptions>, RateLimitOptionsValidator>();
        builder.Services.AddRateLimiter(_ => { });
        builder.Services.AddSingleton<IConfigureOptions<RateLimiterOptions>, HttpRateLimits>();
        return builder;
    }
}

/// <summary>
/// The HTTP side of the abuse limits, as one global limiter of the ASP.NET Core rate limiting
/// middleware (placed after authentication, so the per-user bucket knows the user; before
/// authorization, so unauthenticated upgrade attempts spend the IP's budget too). Refusals are
/// 429 problem details with <c>code: rate_limited</c> and <c>Retry-After</c>.
/// </summary>
internal sealed class HttpRateLimits(IOptions<RateLimitOptions> options) : IConfigureOptions<RateLimiterOptions>
{
    private const string Unlimited = "";

    public void Configure(RateLimiterOptions limiter)
    {
        var limits = options.Value;
        var upgradesPerIp = PartitionedRateLimiter.Create<HttpContext, string>(context =>
            IsUpgrade(context.Request)
                ? RateLimitPartition.GetTokenBucketLimiter(ClientIp(context), _ => limits.UpgradesPerIp.ToLimiterOptions())
                : RateLimitPartition.GetNoLimiter(Unlimited));
        var tokensPerIp = PartitionedRateLimiter.Create<HttpContext, string>(context =>
            IsTokenRequest(context.Request)
                ? RateLimitPartition.GetTokenBucketLimiter(ClientIp(context), _ => limits.TokensPerIp.ToLimiterOptions())
                : RateLimitPartition.GetNoLimiter(Unlimited));
        var connectionsPerUser = PartitionedRateLimiter.Create<HttpContext, string>(context =>
            IsUpgrade(context.Request) && context.User.FindFirstValue("sub") is { Length: > 0 } user
                ? RateLimitPartition.GetTokenBucketLimiter(user, _ => limits.ConnectionsPerUser.ToLimiterOptions())
                : RateLimitPartition.GetNoLimiter(Unlimited));
        limiter.GlobalLimiter = PartitionedRateLimiter.CreateChained(upgradesPerIp, tokensPerIp, connectionsPerUser);
        limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
        limiter.OnRejected = RejectAsync;
    }

    /// <summary>A new session: a WebSocket upgrade, or an event stream of the HTTP fallback (the same budgets).</summary>
    private static bool IsUpgrade(HttpRequest request) => request.Path.StartsWithSegments("/ws") || request.Path.StartsWithSegments("/v1/events");

    private static bool IsTokenRequest(HttpRequest request) => request.Path.StartsWithSegments("/v1/dev/tokens");

    /// <summary>The peer address; behind a proxy, configure forwarded headers or every client shares the proxy's budget.</summary>
    private static string ClientIp(HttpContext context) => context.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    private static async ValueTask RejectAsync(OnRejectedContext rejected, CancellationToken _)
    {
        var wait = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.FromSeconds(1);
        var seconds = (int)Math.Ceiling(wait.TotalSeconds);
        var http = rejected.HttpContext;
        http.RequestServices.GetService<EdgeMetrics>()?.RateLimited("http");
        http.Response.Headers.RetryAfter = Math.Max(1, seconds).ToString(CultureInfo.InvariantCulture);
        var problem = Results.Problem(
            statusCode: StatusCodes.Status429TooManyRequests,
            detail: "too many requests; retry after the Retry-After delay",
            extensions: new Dictionary<string, object?> { ["code"] = ErrorCodes.RateLimited, ["retryAfterMs"] = (long)Math.Ceiling(wait.TotalMilliseconds) });
        await problem.ExecuteAsync(http);
    }
}
