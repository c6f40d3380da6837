using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;

namespace Messaging.ReadModels.Schema;

/// <summary>One versioned schema script, <c>NNNN_name.sql</c>, embedded in the assembly.</summary>
internal sealed record MigrationScript(int Version, string Name, string Sql)
{
    /// <summary>Detects a script edited after it was applied somewhere (that database would silently differ).</summary>
    public string Checksum { get; } = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(Sql.ReplaceLineEndings("\n"))));
}

internal static class MigrationCatalog
{
    private const string ResourcePrefix = "Migrations.";

    /// <summary>The scripts embedded in this assembly, in the order to apply them.</summary>
    public static IReadOnlyList<MigrationScript> Embedded()
    {
        var assembly = typeof(MigrationCatalog).Assembly;
        var scripts = new List<(string, string)>();
        foreach (var name in assembly.GetManifestResourceNames())
        {
            if (!name.StartsWith(ResourcePrefix, StringComparison.Ordinal) || !name.EndsWith(".sql", StringComparison.Ordinal))
            {
                continue;
            }

            scripts.Add((name[ResourcePrefix.Length..], Read(assembly, name)));
        }

        return Order(scripts);
    }

    /// <summary>
    /// Parses <c>NNNN_name.sql</c> file names and orders by the numeric version (not the string:
    /// <c>10_x</c> comes after <c>9_x</c>). Two scripts with one version or a name without a
    /// version are errors, found at start rather than by a half-migrated database.
    /// </summary>
    public static IReadOnlyList<MigrationScript> Order(IEnumerable<(string FileName, string Sql)> files)
    {
        var byVersion = new SortedDictionary<int, MigrationScript>();
        foreach (var (fileName, sql) in files)
        {
            var underscore = fileName.IndexOf('_', StringComparison.Ordinal);
            if (underscore <= 0 || !int.TryParse(fileName.AsSpan(0, underscore), NumberStyles.None, CultureInfo.InvariantCulture, out var version) || version <= 0)
            {
                throw new InvalidOperationException($"Migration '{fileName}' is not named NNNN_name.sql.");
            }

            var name = Path.GetFileNameWithoutExtension(fileName)[(underscore + 1)..];
            if (!byVersion.TryAdd(version, new MigrationScript(version, name, sql)))
            {
                throw new InvalidOperationException($"Two migrations have version {version}: '{byVersion[version].Name}' and '{name}'.");
            }
        }

        return [.. byVersion.Values];
    }

    private static string Read(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"Embedded migration {name} is missing.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }
}
