using System.Text.Json;
using Messaging.Contracts;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Messaging.Edge.Auth;

public static class AuthExtensions
{
    /// <summary>Bearer-token authentication (HS256 JWT), options from <c>Auth</c>.</summary>
    public static IHostApplicationBuilder AddEdgeAuth(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<AuthOptions>()
            .Bind(builder.Configuration.GetSection(AuthOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<TokenService>();
        builder.Services.AddAuthentication(BearerTokenHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, BearerTokenHandler>(BearerTokenHandler.SchemeName, _ => { });
        builder.Services.AddAuthorization();
        return builder;
    }

    /// <summary><c>POST /v1/dev/tokens</c>: a token for any user and device, when <c>Auth:DevTokens</c> is on (404 otherwise).</summary>
    public static IEndpointRouteBuilder MapDevTokens(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/dev/tokens", IssueDevTokenAsync).AllowAnonymous();
        return app;
    }

    private static async Task<IResult> IssueDevTokenAsync(HttpRequest request, TokenService tokens, IOptions<AuthOptions> auth, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (!auth.Value.DevTokens)
        {
            return Problems.Of(StatusCodes.Status404NotFound, Problems.NotFound, "development tokens are disabled (Auth:DevTokens)");
        }

        DevTokenRequest? body;
        try
        {
            body = await JsonSerializer.DeserializeAsync(request.Body, EdgeJsonContext.Default.DevTokenRequest, cancellationToken);
        }
        catch (JsonException ex)
        {
            return Problems.Of(StatusCodes.Status400BadRequest, Problems.BadRequest, "the body is not a JSON {userId, deviceId}: " + ex.Message);
        }

        if (body is not { UserId: { } userId, DeviceId: { } deviceId } || !Ids.IsValidUserId(userId) || !Ids.IsValidDeviceId(deviceId))
        {
            return Problems.Of(StatusCodes.Status400BadRequest, Problems.BadRequest, "'userId' and 'deviceId' must be valid ids (docs/protocol.md, Ids)");
        }

        var token = tokens.Issue(userId, deviceId);
        return Results.Json(new DevTokenResponse(token, clock.GetUtcNow() + tokens.DefaultLifetime), EdgeJsonContext.Default.DevTokenResponse);
    }
}
