using System.Globalization;
using System.Text.Json.Nodes;
using Messaging.Contracts.Serialization;

namespace Messaging.UnitTests.Contracts;

/// <summary>
/// The published JSON Schemas are the contract analytics consumers code against. Every version of
/// every family is kept as src/Contracts/Schemas/{family}/v{N}.json: earlier versions are frozen,
/// the current one is generated from the records. A change to a record that is not reflected in
/// the current file fails here; regenerate deliberately with
/// <c>UPDATE_SCHEMAS=1 dotnet test --filter ContractSchemaTests</c> and review the diff (it refuses
/// to write an incompatible change). A change that breaks a reader of any earlier version fails
/// unless a version bump acknowledges it (<see cref="ContractSchemas.AcknowledgedBreaks"/>).
/// </summary>
public sealed class ContractSchemaTests
{
    public static TheoryData<string> Families() => new(ContractSchemas.Families.Keys);

    [Theory]
    [MemberData(nameof(Families))]
    public void Published_schema_of_the_current_version_matches_the_records_in_code(string family)
    {
        var path = PublishedPath(family, ContractSchemas.Versions[family]);
        var generated = ContractSchemas.Generate(family);
        if (Environment.GetEnvironmentVariable("UPDATE_SCHEMAS") == "1")
        {
            // A new version starts a new file; the current version's file only ever takes compatible changes.
            if (File.Exists(path))
            {
                SchemaCompatibility.Check(Load(path), JsonNode.Parse(generated)!, ContractSchemas.Compatibility[family])
                    .Should().BeEmpty($"{path} is published: an incompatible change needs a new version (SchemaVersions), not a rewrite");
            }

            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, generated);
        }

        File.Exists(path).Should().BeTrue($"{path} is the published schema of {family}");
        File.ReadAllText(path).Should().Be(generated, "the records changed: review and regenerate the schema (see the class comment)");
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void Every_version_up_to_the_current_one_is_published_under_its_own_path(string family)
    {
        var current = ContractSchemas.Versions[family];
        var published = Directory.GetFiles(Path.Combine(SchemasRoot(), family)).Select(Path.GetFileName).Order(StringComparer.Ordinal);

        published.Should().BeEquivalentTo(Enumerable.Range(1, current).Select(v => "v" + v.ToString(CultureInfo.InvariantCulture) + ".json"));
        for (var version = 1; version <= current; version++)
        {
            Load(PublishedPath(family, version))["title"]!.GetValue<string>()
                .Should().Be("Messaging " + family + " v" + version.ToString(CultureInfo.InvariantCulture));
        }
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void The_records_in_code_break_no_reader_of_any_published_version(string family)
    {
        var undeclared = UndeclaredBreaks(family, JsonNode.Parse(ContractSchemas.Generate(family))!);

        undeclared.Should().BeEmpty(
            "a record change must keep every earlier version readable ({0}, docs/events.md 'Contract rules'): make it compatible, or bump the family's version and acknowledge the break",
            ContractSchemas.Compatibility[family]);
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void Each_acknowledged_break_is_exactly_what_its_version_bump_changed(string family)
    {
        if (!ContractSchemas.AcknowledgedBreaks.TryGetValue(family, out var byVersion))
        {
            return;
        }

        foreach (var (version, acknowledged) in byVersion)
        {
            version.Should().BeInRange(2, ContractSchemas.Versions[family]);
            var actual = SchemaCompatibility.Check(
                Load(PublishedPath(family, version - 1)), Load(PublishedPath(family, version)), ContractSchemas.Compatibility[family]);

            actual.Select(b => b.ToString()).Should().BeEquivalentTo(acknowledged, $"v{version} of {family} acknowledges exactly the breaks it made");
        }
    }

    [Fact]
    public void A_removed_retyped_or_newly_required_chat_event_field_is_caught_against_every_published_version()
    {
        var changed = JsonNode.Parse(ContractSchemas.Generate("chat-events"))!;
        var messageSent = Variant(changed, "MessageSent");
        messageSent["properties"]!.AsObject().Remove("clientMsgId");
        messageSent["properties"]!["seq"] = new JsonObject { ["type"] = "string" };
        messageSent["properties"]!["region"] = new JsonObject { ["type"] = "string" };
        messageSent["required"]!.AsArray().Add("region");

        var undeclared = UndeclaredBreaks("chat-events", changed);

        undeclared.Should().BeEquivalentTo(
        [
            "v1: Removed MessageSent.clientMsgId", "v1: Retyped MessageSent.seq", "v1: NewlyRequired MessageSent.region",
            "v2: Removed MessageSent.clientMsgId", "v2: Retyped MessageSent.seq", "v2: NewlyRequired MessageSent.region",
            "v3: Removed MessageSent.clientMsgId", "v3: Retyped MessageSent.seq", "v3: NewlyRequired MessageSent.region",
        ]);
    }

    [Fact]
    public void A_new_optional_field_and_a_new_event_type_are_compatible_with_every_published_version()
    {
        var changed = JsonNode.Parse(ContractSchemas.Generate("chat-events"))!;
        Variant(changed, "MessageSent")["properties"]!["region"] = new JsonObject { ["type"] = new JsonArray("string", "null") };
        changed["anyOf"]!.AsArray().Add(new JsonObject
        {
            ["properties"] = new JsonObject { ["type"] = new JsonObject { ["const"] = "ChatArchived" }, ["chatId"] = new JsonObject { ["type"] = "string" } },
            ["required"] = new JsonArray("chatId"),
        });

        UndeclaredBreaks("chat-events", changed).Should().BeEmpty();
    }

    /// <summary>The breaks of <paramref name="candidate"/> against each published version that no bump since acknowledges, as <c>v{K}: {break}</c>.</summary>
    private static List<string> UndeclaredBreaks(string family, JsonNode candidate)
    {
        var current = ContractSchemas.Versions[family];
        var acknowledged = ContractSchemas.AcknowledgedBreaks.GetValueOrDefault(family);
        var undeclared = new List<string>();
        for (var version = 1; version <= current; version++)
        {
            // A break against v{K} is acknowledged when a bump after v{K} made it.
            var allowed = new HashSet<string>(StringComparer.Ordinal);
            for (var later = version + 1; later <= current && acknowledged is not null; later++)
            {
                allowed.UnionWith(acknowledged.GetValueOrDefault(later) ?? []);
            }

            foreach (var found in SchemaCompatibility.Check(Load(PublishedPath(family, version)), candidate, ContractSchemas.Compatibility[family]))
            {
                if (!allowed.Contains(found.ToString()))
                {
                    undeclared.Add("v" + version.ToString(CultureInfo.InvariantCulture) + ": " + found);
                }
            }
        }

        return undeclared;
    }

    private static JsonObject Variant(JsonNode schema, string type) =>
        schema["anyOf"]!.AsArray().Single(v => v!["properties"]!["type"]!["const"]!.GetValue<string>() == type)!.AsObject();

    private static JsonNode Load(string path) => JsonNode.Parse(File.ReadAllText(path))!;

    private static string PublishedPath(string family, int version) =>
        Path.Combine(SchemasRoot(), family, "v" + version.ToString(CultureInfo.InvariantCulture) + ".json");

    private static string SchemasRoot() => RepositoryFiles.PathOf("src", "Contracts", "Schemas");
}
