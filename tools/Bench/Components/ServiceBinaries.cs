namespace Messaging.Bench.Components;

/// <summary>Finds a service's built assembly in the clone: <c>src/{Project}/bin/{Release|Debug}/net10.0/linux-x64/{Assembly}</c>.</summary>
public static class ServiceBinaries
{
    /// <summary>Release first: a Debug service measures the wrong thing, but is better than nothing for a functional check.</summary>
    private static readonly string[] Configurations = ["Release", "Debug"];

    /// <summary>The clone's root: the nearest directory up from <paramref name="start"/> holding Messaging.sln.</summary>
    public static string? FindRepositoryRoot(string start)
    {
        for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Messaging.sln")))
            {
                return directory.FullName;
            }
        }

        return null;
    }

    /// <summary>Candidate paths in the order they are tried.</summary>
    public static IEnumerable<string> Candidates(string repositoryRoot, string project, string assembly) =>
        Configurations.Select(c => Path.Combine(repositoryRoot, "src", project, "bin", c, "net10.0", "linux-x64", assembly));

    /// <summary>An explicit path if given, else the first built configuration; null with the places looked at.</summary>
    public static string? Resolve(string? explicitPath, string project, string assembly, out string searched)
    {
        if (!string.IsNullOrEmpty(explicitPath))
        {
            searched = explicitPath;
            return File.Exists(explicitPath) ? Path.GetFullPath(explicitPath) : null;
        }

        var root = FindRepositoryRoot(Directory.GetCurrentDirectory()) ?? FindRepositoryRoot(AppContext.BaseDirectory);
        if (root is null)
        {
            searched = "no Messaging.sln above the current directory or the bench";
            return null;
        }

        var candidates = Candidates(root, project, assembly).ToList();
        searched = string.Join(", ", candidates);
        return candidates.FirstOrDefault(File.Exists);
    }

    public static bool IsDebugBuild(string path) =>
        path.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}", StringComparison.Ordinal);
}
