using Messaging.Contracts.Serialization;

namespace Messaging.UnitTests.Contracts;

/// <summary>
/// The published JSON Schemas are the contract analytics consumers code against: a change to a
/// record that is not reflected in src/Contracts/Schemas fails here. Regenerate deliberately with
/// <c>UPDATE_SCHEMAS=1 dotnet test --filter ContractSchemaTests</c> and review the diff.
/// </summary>
public sealed class ContractSchemaTests
{
    public static TheoryData<string> Families() => new(ContractSchemas.Families.Keys);

    [Theory]
    [MemberData(nameof(Families))]
    public void Published_schema_matches_the_records_in_code(string family)
    {
        var path = Path.Combine(RepoRoot(), "src", "Contracts", "Schemas", family + ".schema.json");
        var generated = ContractSchemas.Generate(family);
        if (Environment.GetEnvironmentVariable("UPDATE_SCHEMAS") == "1")
        {
            File.WriteAllText(path, generated);
        }

        File.Exists(path).Should().BeTrue($"{path} is the published schema of {family}");
        File.ReadAllText(path).Should().Be(generated, "the records changed: review and regenerate the schema (see the class comment)");
    }

    internal static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Messaging.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("Messaging.sln not found above " + AppContext.BaseDirectory);
    }
}
