namespace Messaging.ReadModels.Schema;

/// <summary>
/// PostgreSQL advisory lock keys. Keys include the schema so that environments and test classes
/// sharing one database never block each other.
/// </summary>
public static class AdvisoryLocks
{
    /// <summary>Held (session) while migrations run: two processes starting together apply them once.</summary>
    public static long Migrations(string schema) => Key("migrate", schema, "");

    /// <summary>
    /// Per projection: live batches take it shared (per transaction), the rebuild swap takes it
    /// exclusive, so the table swap and the checkpoint handover happen between two live batches.
    /// </summary>
    public static long Projection(string schema, string projection) => Key("projection", schema, projection);

    /// <summary>Held (session) by a running rebuild of a projection: a second one refuses to start.</summary>
    public static long Rebuild(string schema, string projection) => Key("rebuild", schema, projection);

    /// <summary>Stable 64-bit FNV-1a: the key must be the same in every process and every run.</summary>
    internal static long Key(string kind, string schema, string name)
    {
        const ulong offset = 14695981039346656037;
        const ulong prime = 1099511628211;
        var hash = offset;
        foreach (var part in (ReadOnlySpan<string>)[kind, "/", schema, "/", name])
        {
            foreach (var c in part)
            {
                hash ^= c;
                hash *= prime;
            }
        }

        return unchecked((long)hash);
    }
}
