using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Messaging.Edge.Auth;

/// <summary>
/// Issues HS256 JWTs with <c>Auth:SigningKey</c> through IdentityModel's <see cref="JsonWebTokenHandler"/>
/// (dev tokens and tests): <c>sub</c> = user id, <c>device_id</c> = device id, plus <c>iss</c>,
/// <c>aud</c>, <c>iat</c>, <c>nbf</c>, <c>exp</c>. Validation is JwtBearer's (<see cref="TokenValidation"/>).
/// </summary>
public sealed class TokenService(IOptions<AuthOptions> options, TimeProvider clock)
{
    private readonly AuthOptions _options = options.Value;
    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };

    public TimeSpan DefaultLifetime => TimeSpan.FromMinutes(_options.TokenLifetimeMinutes);

    /// <summary>Issues a token for the device, valid for <c>Auth:TokenLifetimeMinutes</c>.</summary>
    public string Issue(string userId, string deviceId) => Issue(userId, deviceId, clock.GetUtcNow(), DefaultLifetime);

    /// <summary>Issues a token valid from <paramref name="notBefore"/> for <paramref name="lifetime"/> (tests issue expired ones).</summary>
    public string Issue(string userId, string deviceId, DateTimeOffset notBefore, TimeSpan lifetime)
    {
        if (_options.SigningKey.Length == 0)
        {
            throw new InvalidOperationException("Auth:SigningKey is not set: this node cannot issue tokens.");
        }

        return _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = _options.Issuer,
            Audience = _options.Audience,
            IssuedAt = notBefore.UtcDateTime,
            NotBefore = notBefore.UtcDateTime,
            Expires = (notBefore + lifetime).UtcDateTime,
            Claims = new Dictionary<string, object>(StringComparer.Ordinal)
            {
                [TokenClaims.Subject] = userId,
                [TokenClaims.DeviceId] = deviceId,
            },
            SigningCredentials = new SigningCredentials(TokenValidation.Key(_options.SigningKey), SecurityAlgorithms.HmacSha256),
        });
    }
}
