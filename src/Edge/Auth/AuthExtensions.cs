using System.Text.Json;
using Messaging.Contracts;
using Messaging.Contracts.Protocol;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Messaging.Edge.Auth;

public static class AuthExtensions
{
    /// <summary>
    /// JwtBearer authentication configured from <c>Auth</c> (<see cref="TokenValidation"/>), with
    /// the token also read from <c>access_token</c> on <c>/ws</c> (browsers cannot set headers on
    /// a WebSocket) and every refusal answered 401 with problem details before any upgrade.
    /// </summary>
    public static IHostApplicationBuilder AddEdgeAuth(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<AuthOptions>()
            .Bind(builder.Configuration.GetSection(AuthOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<AuthOptions>, AuthOptionsValidator>();
        builder.Services.AddSingleton<TokenService>();
        builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        builder.Services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<IOptions<AuthOptions>>((jwt, auth) => Configure(jwt, auth.Value));
        builder.Services.AddAuthorization();
        return builder;
    }

    /// <summary><c>POST /v1/dev/tokens</c>: a token for any user and device, when <c>Auth:DevTokens</c> is on (404 otherwise).</summary>
    public static IEndpointRouteBuilder MapDevTokens(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/dev/tokens", IssueDevTokenAsync).AllowAnonymous();
        return app;
    }

    private static void Configure(JwtBearerOptions jwt, AuthOptions auth)
    {
        if (auth.Authority.Length > 0)
        {
            jwt.Authority = auth.Authority;
        }

        if (auth.MetadataAddress.Length > 0)
        {
            jwt.MetadataAddress = auth.MetadataAddress;
        }

        jwt.RequireHttpsMetadata = auth.RequireHttpsMetadata;
        jwt.MapInboundClaims = false;
        jwt.TokenHandlers.Clear();
        jwt.TokenHandlers.Add(TokenValidation.Handler());
        jwt.TokenValidationParameters = TokenValidation.Parameters(auth);
        jwt.Events = new JwtBearerEvents
        {
            OnMessageReceived = ReadToken,
            OnTokenValidated = context =>
            {
                if (TokenValidation.CheckIdentity(context.Principal!) is { } error)
                {
                    context.Fail(new InvalidTokenClaimsException(error));
                }

                return Task.CompletedTask;
            },
            OnChallenge = WriteUnauthorizedAsync,
        };
    }

    private static Task ReadToken(MessageReceivedContext context)
    {
        var request = context.Request;
        var header = request.Headers.Authorization.ToString();
        string? token = null;
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            token = header["Bearer ".Length..].Trim();
        }
        else if ((request.Path.StartsWithSegments("/ws") || request.Path.StartsWithSegments("/v1/events")) && request.Query.TryGetValue("access_token", out var fromQuery))
        {
            // Only the WebSocket and event-stream endpoints take the token from the URL (browsers
            // cannot set headers on either): URLs end up in logs.
            token = fromQuery.ToString();
        }

        if (string.IsNullOrEmpty(token))
        {
            context.NoResult();
        }
        else if (token.Length > TokenValidation.MaxTokenLength)
        {
            context.Fail(new InvalidTokenClaimsException("token too long"));
        }
        else
        {
            context.Token = token;
        }

        return Task.CompletedTask;
    }

    private static async Task WriteUnauthorizedAsync(JwtBearerChallengeContext context)
    {
        context.HandleResponse();
        var http = context.HttpContext;
        http.Response.StatusCode = StatusCodes.Status401Unauthorized;
        http.Response.Headers.WWWAuthenticate = "Bearer";
        var problems = http.RequestServices.GetRequiredService<IProblemDetailsService>();
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status401Unauthorized,
                Title = "Unauthorized",
                Detail = context.AuthenticateFailure is { } failure ? TokenValidation.Reason(failure) : "a bearer token is required",
                Extensions = { ["code"] = ErrorCodes.Unauthorized },
            },
        });
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
