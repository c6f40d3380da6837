using System.Security.Claims;
using System.Text;
using Messaging.Contracts;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Messaging.Edge.Auth;

/// <summary>
/// What JwtBearer checks, in one place so unit tests validate with exactly the production
/// settings: signature (HS256 key and/or the issuer's JWKS), allowed algorithms only (never
/// <c>none</c>, no switching), issuer, audience, <c>exp</c> required, <c>nbf</c>, clock skew,
/// token size; then the claims name a valid user and device (<see cref="Ids"/>).
/// </summary>
public static class TokenValidation
{
    /// <summary>Longer tokens are refused before any parsing: a token here is a few hundred bytes.</summary>
    public const int MaxTokenLength = 8192;

    private static readonly string[] AuthorityAlgorithms = [SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSsaPssSha256, SecurityAlgorithms.EcdsaSha256];

    public static SymmetricSecurityKey Key(string signingKey) => new(Encoding.UTF8.GetBytes(signingKey));

    /// <summary>The handler JwtBearer uses: inbound claims keep their JWT names (<c>sub</c>, <c>device_id</c>, <c>iat</c>).</summary>
    public static JsonWebTokenHandler Handler() => new() { MapInboundClaims = false, MaximumTokenSizeInBytes = MaxTokenLength };

    public static TokenValidationParameters Parameters(AuthOptions options) => new()
    {
        ValidIssuer = options.Issuer,
        ValidAudience = options.Audience,
        IssuerSigningKey = options.SigningKey.Length > 0 ? Key(options.SigningKey) : null,
        ValidAlgorithms = Algorithms(options),
        RequireSignedTokens = true,
        RequireExpirationTime = true,
        ValidateIssuer = true,
        ValidateAudience = true,
        ValidateLifetime = true,
        ValidateIssuerSigningKey = true,
        ClockSkew = options.ClockSkew,
        NameClaimType = TokenClaims.Subject,
        RoleClaimType = "roles",
    };

    public static IReadOnlyList<string> Algorithms(AuthOptions options)
    {
        if (options.Algorithms.Length > 0)
        {
            return options.Algorithms;
        }

        var algorithms = new List<string>();
        if (options.SigningKey.Length > 0)
        {
            algorithms.Add(SecurityAlgorithms.HmacSha256);
        }

        if (options.Authority.Length > 0 || options.MetadataAddress.Length > 0)
        {
            algorithms.AddRange(AuthorityAlgorithms);
        }

        return algorithms;
    }

    /// <summary>A short, stable reason for a refused token (the 401's <c>detail</c>); IdentityModel's own messages hide their details.</summary>
    public static string Reason(Exception? failure) => failure switch
    {
        null => "invalid token",
        InvalidTokenClaimsException claims => claims.Message,
        SecurityTokenExpiredException or SecurityTokenNoExpirationException => "expired",
        SecurityTokenNotYetValidException => "not yet valid",
        SecurityTokenInvalidAlgorithmException => "unsupported algorithm",
        SecurityTokenInvalidSignatureException or SecurityTokenSignatureKeyNotFoundException => "invalid signature",
        SecurityTokenInvalidIssuerException => "wrong issuer",
        SecurityTokenInvalidAudienceException => "wrong audience",
        SecurityTokenMalformedException or ArgumentException => "malformed token",
        _ => "invalid token",
    };

    /// <summary>Null when the validated claims name a valid user and device (the shared id rules), else why not.</summary>
    public static string? CheckIdentity(ClaimsPrincipal principal)
    {
        var user = principal.FindFirst(TokenClaims.Subject)?.Value;
        var device = principal.FindFirst(TokenClaims.DeviceId)?.Value;
        if (string.IsNullOrEmpty(user))
        {
            return "no 'sub'";
        }

        if (string.IsNullOrEmpty(device))
        {
            return "no 'device_id'";
        }

        if (!Ids.IsValidUserId(user))
        {
            return "'sub' is not a valid user id";
        }

        return Ids.IsValidDeviceId(device) ? null : "'device_id' is not a valid device id";
    }
}

/// <summary>A signed, unexpired token whose claims do not name a valid device.</summary>
public sealed class InvalidTokenClaimsException(string reason) : Exception(reason);

/// <summary>Claim names and reading the caller's identity from an authenticated request.</summary>
internal static class TokenClaims
{
    public const string Subject = "sub";
    public const string DeviceId = "device_id";
    public const string Expires = "exp";
    public const string IssuedAt = "iat";

    public static DeviceRef Device(this ClaimsPrincipal user) =>
        user.TryGetDevice(out var device) ? device : throw new InvalidOperationException("no 'sub' or 'device_id' claim");

    /// <summary>The caller's device, false when the principal does not name one.</summary>
    public static bool TryGetDevice(this ClaimsPrincipal user, out DeviceRef device)
    {
        var userId = user.FindFirstValue(Subject);
        var deviceId = user.FindFirstValue(DeviceId);
        device = userId is null || deviceId is null ? null! : new DeviceRef(userId, deviceId);
        return device is not null;
    }

    /// <summary>
    /// When the token was issued (<c>iat</c>, Unix seconds). A token without it counts as issued
    /// at the dawn of time, so it never re-registers a removed device.
    /// </summary>
    public static DateTimeOffset TokenIssuedAt(this ClaimsPrincipal user) =>
        long.TryParse(user.FindFirstValue(IssuedAt), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var seconds)
            && seconds >= 0 && seconds <= DateTimeOffset.MaxValue.ToUnixTimeSeconds()
            ? DateTimeOffset.FromUnixTimeSeconds(seconds)
            : DateTimeOffset.MinValue;

    /// <summary>The token's <c>exp</c> (JwtBearer required it); null if it is missing or not a number.</summary>
    public static DateTimeOffset? ExpiresAt(this ClaimsPrincipal user) =>
        long.TryParse(user.FindFirstValue(Expires), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var seconds)
            ? DateTimeOffset.FromUnixTimeSeconds(seconds)
            : null;
}
