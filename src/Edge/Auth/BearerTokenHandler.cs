using System.Globalization;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Messaging.Contracts;
using Messaging.Contracts.Protocol;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Messaging.Edge.Auth;

/// <summary>
/// Authenticates requests by a bearer token in the <c>Authorization</c> header, or — for
/// browsers, which cannot set headers on a WebSocket — the <c>access_token</c> query parameter
/// of <c>/ws</c>. A refused request gets 401 with problem details before any WebSocket upgrade.
/// </summary>
internal sealed class BearerTokenHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    TokenService tokens,
    IOptions<EdgeOptions> edge,
    IProblemDetailsService problems) : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    public const string SchemeName = "Bearer";

    private const string FailureKey = "Messaging.AuthFailure";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var token = ReadToken(Request);
        if (token is null)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        var result = tokens.Validate(token);
        if (result.Identity is not { } identity)
        {
            Context.Items[FailureKey] = result.Error;
            return Task.FromResult(AuthenticateResult.Fail(result.Error ?? "invalid token"));
        }

        var maxId = edge.Value.MaxIdLength;
        if (identity.UserId.Length > maxId || identity.DeviceId.Length > maxId)
        {
            Context.Items[FailureKey] = "ids in the token are too long";
            return Task.FromResult(AuthenticateResult.Fail("ids in the token are too long"));
        }

        var principal = new ClaimsPrincipal(new ClaimsIdentity(
            [
                new Claim("sub", identity.UserId),
                new Claim(TokenService.DeviceIdClaim, identity.DeviceId),
                new Claim(TokenService.IssuedAtClaim, identity.IssuedAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture), ClaimValueTypes.Integer64),
            ],
            SchemeName,
            "sub",
            null));
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName)));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var reason = Context.Items.TryGetValue(FailureKey, out var failure) && failure is string text ? text : "a bearer token is required";
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer";
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status401Unauthorized,
                Title = "Unauthorized",
                Detail = reason,
                Extensions = { ["code"] = ErrorCodes.Unauthorized },
            },
        });
    }

    private static string? ReadToken(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return header["Bearer ".Length..].Trim();
        }

        // Only the WebSocket endpoint takes the token from the URL: URLs end up in logs.
        if (request.Path.StartsWithSegments("/ws") && request.Query.TryGetValue("access_token", out var fromQuery))
        {
            return fromQuery.ToString();
        }

        return null;
    }
}

/// <summary>Reads the caller's device from an authenticated request.</summary>
internal static class ClaimsPrincipalExtensions
{
    public static DeviceRef Device(this ClaimsPrincipal user) =>
        new(user.FindFirstValue("sub") ?? throw new InvalidOperationException("no 'sub' claim"),
            user.FindFirstValue(TokenService.DeviceIdClaim) ?? throw new InvalidOperationException("no 'device_id' claim"));

    /// <summary>The caller's device, false when the principal does not name one.</summary>
    public static bool TryGetDevice(this ClaimsPrincipal user, out DeviceRef device)
    {
        var userId = user.FindFirstValue("sub");
        var deviceId = user.FindFirstValue(TokenService.DeviceIdClaim);
        device = userId is null || deviceId is null ? null! : new DeviceRef(userId, deviceId);
        return device is not null;
    }

    /// <summary>
    /// When the token was issued (claim <c>iat</c>, Unix seconds; the claim name is the JWT's own,
    /// as JwtBearer with <c>MapInboundClaims = false</c> also presents it). A token without it
    /// counts as issued at the dawn of time, so it never re-registers a removed device.
    /// </summary>
    public static DateTimeOffset TokenIssuedAt(this ClaimsPrincipal user) =>
        long.TryParse(user.FindFirstValue(TokenService.IssuedAtClaim), NumberStyles.Integer, CultureInfo.InvariantCulture, out var seconds)
            && seconds >= 0 && seconds <= DateTimeOffset.MaxValue.ToUnixTimeSeconds()
            ? DateTimeOffset.FromUnixTimeSeconds(seconds)
            : DateTimeOffset.MinValue;
}
