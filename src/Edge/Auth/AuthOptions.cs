using System.ComponentModel.DataAnnotations;

namespace Messaging.Edge.Auth;

/// <summary>Bearer token settings (section <c>Auth</c>): HS256 JWTs with <c>sub</c> = user id, <c>device_id</c> = device id.</summary>
public sealed class AuthOptions
{
    public const string Section = "Auth";

    /// <summary>The HS256 key; at least 32 characters (256 bits), as the algorithm requires.</summary>
    [Required]
    [MinLength(32)]
    public string SigningKey { get; set; } = "";

    [Required]
    public string Issuer { get; set; } = "messaging";

    [Required]
    public string Audience { get; set; } = "messaging-edge";

    /// <summary>Serve <c>POST /v1/dev/tokens</c>: local runs and tests only, never in production.</summary>
    public bool DevTokens { get; set; }

    [Range(1, 60 * 24 * 365)]
    public int TokenLifetimeMinutes { get; set; } = 60;

    /// <summary>Tolerated clock difference between the token issuer and this node.</summary>
    [Range(0, 600)]
    public int ClockSkewSeconds { get; set; } = 30;
}
