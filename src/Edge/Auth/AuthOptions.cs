using System.ComponentModel.DataAnnotations;
using System.Text;
using Microsoft.Extensions.Options;

namespace Messaging.Edge.Auth;

/// <summary>
/// Bearer token settings (section <c>Auth</c>): JWTs with <c>sub</c> = user id, <c>device_id</c> =
/// device id, validated by ASP.NET Core's JwtBearer. Locally (and for dev tokens) HS256 with
/// <see cref="SigningKey"/>; in production any OpenID Connect issuer through <see cref="Authority"/>
/// (its JWKS is fetched from the metadata document and refreshed by the library).
/// </summary>
public sealed class AuthOptions
{
    public const string Section = "Auth";

    /// <summary>HS256 needs a key of at least this many bits (RFC 7518 §3.2); IdentityModel refuses shorter ones too.</summary>
    public const int MinSigningKeyBits = 256;

    /// <summary>
    /// Environments where development conveniences (dev tokens) may run: <c>Local</c> (<c>make run</c>),
    /// <c>Development</c>, and <c>Testing</c> (the integration tests' in-process and process hosts).
    /// </summary>
    public static readonly IReadOnlySet<string> DevelopmentEnvironments = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "Local", "Development", "Testing" };

    /// <summary>The HS256 key (UTF-8 bytes, at least 256 bits). Optional when <see cref="Authority"/> is set.</summary>
    public string SigningKey { get; set; } = "";

    /// <summary>The <c>iss</c> every token must carry (for an external issuer: its issuer URL).</summary>
    [Required]
    public string Issuer { get; set; } = "messaging";

    [Required]
    public string Audience { get; set; } = "messaging-edge";

    /// <summary>
    /// An OpenID Connect issuer whose signing keys (JWKS, from <c>{Authority}/.well-known/openid-configuration</c>
    /// or <see cref="MetadataAddress"/>) sign the tokens. Empty: only <see cref="SigningKey"/> signs.
    /// </summary>
    public string Authority { get; set; } = "";

    /// <summary>The metadata document's URL when it is not under <see cref="Authority"/>.</summary>
    public string MetadataAddress { get; set; } = "";

    /// <summary>Refuse metadata over plain HTTP (only a local test issuer would turn this off).</summary>
    public bool RequireHttpsMetadata { get; set; } = true;

    /// <summary>
    /// Accepted <c>alg</c> values. Empty: HS256 when <see cref="SigningKey"/> is set, plus RS256,
    /// PS256 and ES256 when <see cref="Authority"/> is set. Never <c>none</c>.
    /// </summary>
    public string[] Algorithms { get; set; } = [];

    /// <summary>Serve <c>POST /v1/dev/tokens</c>: local runs and tests only, refused at start anywhere else.</summary>
    public bool DevTokens { get; set; }

    [Range(1, 60 * 24 * 365)]
    public int TokenLifetimeMinutes { get; set; } = 60;

    /// <summary>Tolerated clock difference between the token issuer and this node (also when a socket's token expires).</summary>
    [Range(0, 600)]
    public int ClockSkewSeconds { get; set; } = 30;

    public TimeSpan ClockSkew => TimeSpan.FromSeconds(ClockSkewSeconds);

    /// <summary>The key size in bits (UTF-8 bytes of <see cref="SigningKey"/>).</summary>
    public int SigningKeyBits => Encoding.UTF8.GetByteCount(SigningKey) * 8;
}

/// <summary>
/// Refuses a deployment that would let anyone act as anyone: dev tokens outside the development
/// environments, a key too short for HS256, or no way to check a signature at all.
/// </summary>
internal sealed class AuthOptionsValidator(IHostEnvironment environment) : IValidateOptions<AuthOptions>
{
    public ValidateOptionsResult Validate(string? name, AuthOptions options) => Check(options, environment.EnvironmentName) is { } error
        ? ValidateOptionsResult.Fail(error)
        : ValidateOptionsResult.Success;

    /// <summary>Null when the settings are safe for <paramref name="environmentName"/>, else why not.</summary>
    public static string? Check(AuthOptions options, string environmentName)
    {
        if (options.SigningKey.Length == 0 && options.Authority.Length == 0)
        {
            return "Set Auth:SigningKey (HS256) or Auth:Authority (an OpenID Connect issuer whose JWKS signs the tokens): without either no token can be checked.";
        }

        if (options.SigningKey.Length > 0 && options.SigningKeyBits < AuthOptions.MinSigningKeyBits)
        {
            return $"Auth:SigningKey has {options.SigningKeyBits} bits; HS256 needs at least {AuthOptions.MinSigningKeyBits} (32 bytes of UTF-8).";
        }

        if (options.DevTokens && options.SigningKey.Length == 0)
        {
            return "Auth:DevTokens needs Auth:SigningKey: dev tokens are signed with it.";
        }

        if (options.DevTokens && !AuthOptions.DevelopmentEnvironments.Contains(environmentName))
        {
            return $"Auth:DevTokens=true is refused in environment '{environmentName}': POST /v1/dev/tokens hands anyone a token for any user. It is only allowed in {string.Join(", ", AuthOptions.DevelopmentEnvironments)}.";
        }

        if (options.Algorithms.Any(a => string.Equals(a, "none", StringComparison.OrdinalIgnoreCase)))
        {
            return "Auth:Algorithms must not contain 'none': unsigned tokens are never accepted.";
        }

        return null;
    }
}
