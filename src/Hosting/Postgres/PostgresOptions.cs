using System.ComponentModel.DataAnnotations;

namespace Messaging.Hosting.Postgres;

/// <summary>PostgreSQL settings: the connection string is <c>ConnectionStrings:Messaging</c>.</summary>
public sealed class PostgresOptions
{
    public const string Section = "Postgres";

    /// <summary>The schema every read model lives in: one per environment, or per test class.</summary>
    [Required]
    [RegularExpression("^[a-z_][a-z0-9_]{0,62}$")]
    public string Schema { get; set; } = "messaging";
}
