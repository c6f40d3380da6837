using Messaging.Contracts;
using Messaging.Contracts.Protocol;
using Messaging.Contracts.Serialization;
using Messaging.Edge.Auth;
using Microsoft.Extensions.Options;

namespace Messaging.Edge.Presence;

public static class PresenceExtensions
{
    /// <summary>The session table (caught up with <c>device.sessions</c> at start), the watch index and its sweep.</summary>
    public static IHostApplicationBuilder AddEdgePresence(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<PresenceDirectory>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<PresenceDirectory>());
        builder.Services.AddSingleton<PresenceWatches>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<PresenceWatches>());
        builder.Services.AddSingleton<PresenceAccess>();
        builder.Services.AddSingleton<PresenceService>();
        return builder;
    }

    /// <summary><c>GET /v1/presence?userIds=a,b</c>: the same <c>presence</c> object as the WebSocket reply (403 <c>not_member</c> as there).</summary>
    public static IEndpointRouteBuilder MapEdgePresence(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/presence", GetAsync).RequireAuthorization();
        return app;
    }

    private static async Task<IResult> GetAsync(HttpContext context, string? userIds, PresenceService presence, IOptions<EdgeOptions> options, CancellationToken cancellationToken)
    {
        var edge = options.Value;
        var ids = (userIds ?? "").Split(',', StringSplitOptions.TrimEntries);
        if (ids.Length > edge.MaxPresenceWatches || ids.Any(id => !Ids.IsValidUserId(id)))
        {
            return Problems.Of(StatusCodes.Status400BadRequest, Problems.BadRequest, $"'userIds' must be a comma-separated list of at most {edge.MaxPresenceWatches} user ids");
        }

        var reply = await presence.GetAsync(context.User.Device(), ids, null, cancellationToken);
        return reply switch
        {
            ErrorFrame { Code: ErrorCodes.NotMember } error => Problems.Of(StatusCodes.Status403Forbidden, ErrorCodes.NotMember, error.Message),
            ErrorFrame error => Problems.Of(StatusCodes.Status400BadRequest, Problems.BadRequest, error.Message),
            _ => Results.Json(reply, ContractsJsonContext.Default.ServerFrame),
        };
    }
}
