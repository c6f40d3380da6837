using Messaging.Bench.Components;

namespace Messaging.UnitTests.Contracts;

/// <summary>Files of the clone the contract tests compare the code with (published schemas, docs/asyncapi.yaml).</summary>
internal static class RepositoryFiles
{
    private static readonly string Root = ServiceBinaries.FindRepositoryRoot(AppContext.BaseDirectory)
        ?? throw new InvalidOperationException("Messaging.sln not found above " + AppContext.BaseDirectory);

    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);
}
