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

    /// <summary>
    /// Most pooled connections this process opens. Npgsql's default (100) per process let two
    /// Edge nodes syncing 900 reconnecting devices at once exceed the local server's
    /// max_connections (200): syncs failed with 53300 "too many clients" (offline-catchup bench).
    /// With a cap, requests wait for a pooled connection instead. Keep the sum over all
    /// processes below the server's max_connections.
    /// </summary>
    [Range(1, 10_000)]
    public int MaxPoolSize { get; set; } = 40;
}
