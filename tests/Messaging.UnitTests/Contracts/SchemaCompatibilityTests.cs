using System.Text.Json.Nodes;
using Messaging.Contracts.Serialization;

namespace Messaging.UnitTests.Contracts;

public sealed class SchemaCompatibilityTests
{
    /// <summary>A one-type family shaped like the exporter's output: an anyOf of variants discriminated by a <c>type</c> const.</summary>
    private const string Base = """
        {"type":"object","required":["type"],"anyOf":[{"properties":{
          "type":{"const":"Sent"},
          "id":{"type":"string"},
          "seq":{"type":"integer"},
          "note":{"type":["string","null"]},
          "kind":{"enum":["Group","Direct"]},
          "at":{"type":"string","format":"date-time"},
          "tags":{"type":"array","items":{"type":"object","properties":{"key":{"type":"string"}},"required":["key"]}},
          "payloads":{"type":["object","null"],"additionalProperties":{"type":"string"}}
        },"required":["id","seq","kind","at"]}]}
        """;

    private static JsonNode Schema() => JsonNode.Parse(Base)!;

    private static JsonObject Sent(JsonNode schema) => schema["anyOf"]![0]!.AsObject();

    private static JsonObject Props(JsonNode schema) => Sent(schema)["properties"]!.AsObject();

    private static string[] Breaks(JsonNode newer, SchemaCompatibilityMode mode = SchemaCompatibilityMode.Full) =>
        SchemaCompatibility.Check(Schema(), newer, mode).Select(b => b.ToString()).ToArray();

    [Fact]
    public void An_identical_schema_has_no_breaks() => Breaks(Schema()).Should().BeEmpty();

    [Fact]
    public void A_new_optional_field_is_compatible_both_ways()
    {
        var newer = Schema();
        Props(newer)["replyTo"] = new JsonObject { ["type"] = new JsonArray("string", "null") };

        Breaks(newer).Should().BeEmpty();
    }

    [Fact]
    public void A_new_record_type_is_compatible_because_readers_skip_types_they_do_not_know()
    {
        var newer = Schema();
        newer["anyOf"]!.AsArray().Add(JsonNode.Parse("""{"properties":{"type":{"const":"Edited"},"id":{"type":"string"}},"required":["id"]}"""));

        Breaks(newer).Should().BeEmpty();
    }

    [Fact]
    public void A_removed_field_breaks_older_readers_even_when_it_was_optional()
    {
        var newer = Schema();
        Props(newer).Remove("id");
        Props(newer).Remove("note");
        Sent(newer)["required"] = new JsonArray("seq", "kind", "at");

        Breaks(newer).Should().Equal("Removed Sent.id", "Removed Sent.note");
        Breaks(newer, SchemaCompatibilityMode.Backward).Should().BeEmpty("a newer reader ignores fields older records still carry");
    }

    [Fact]
    public void A_retyped_field_breaks_both_ways()
    {
        var newer = Schema();
        Props(newer)["seq"] = new JsonObject { ["type"] = "string" };

        Breaks(newer, SchemaCompatibilityMode.Backward).Should().Equal("Retyped Sent.seq");
        Breaks(newer, SchemaCompatibilityMode.Forward).Should().Equal("Retyped Sent.seq");
    }

    [Fact]
    public void A_changed_format_is_a_retyped_field()
    {
        var newer = Schema();
        Props(newer)["at"] = new JsonObject { ["type"] = "string", ["format"] = "date" };

        Breaks(newer).Should().Equal("Retyped Sent.at");
    }

    [Fact]
    public void A_field_that_became_nullable_breaks_only_older_readers()
    {
        var newer = Schema();
        Props(newer)["id"] = new JsonObject { ["type"] = new JsonArray("string", "null") };

        Breaks(newer, SchemaCompatibilityMode.Forward).Should().Equal("Widened Sent.id");
        Breaks(newer, SchemaCompatibilityMode.Backward).Should().BeEmpty();
    }

    [Fact]
    public void A_field_that_lost_null_breaks_only_newer_readers_of_older_records()
    {
        var newer = Schema();
        Props(newer)["note"] = new JsonObject { ["type"] = "string" };

        Breaks(newer, SchemaCompatibilityMode.Backward).Should().Equal("Narrowed Sent.note");
        Breaks(newer, SchemaCompatibilityMode.Forward).Should().BeEmpty();
    }

    [Fact]
    public void A_new_required_field_breaks_newer_readers_of_older_records()
    {
        var newer = Schema();
        Props(newer)["region"] = new JsonObject { ["type"] = "string" };
        Sent(newer)["required"]!.AsArray().Add("region");

        Breaks(newer, SchemaCompatibilityMode.Backward).Should().Equal("NewlyRequired Sent.region");
        Breaks(newer, SchemaCompatibilityMode.Forward).Should().BeEmpty("an older reader ignores the new field");
    }

    [Fact]
    public void An_optional_field_made_required_breaks_newer_readers_and_the_reverse_breaks_older_ones()
    {
        var newer = Schema();
        Sent(newer)["required"] = new JsonArray("id", "seq", "kind", "note");

        Breaks(newer).Should().Equal("NewlyRequired Sent.note", "NoLongerRequired Sent.at");
        Breaks(newer, SchemaCompatibilityMode.Backward).Should().Equal("NewlyRequired Sent.note");
        Breaks(newer, SchemaCompatibilityMode.Forward).Should().Equal("NoLongerRequired Sent.at");
    }

    [Fact]
    public void Enum_values_removed_break_newer_readers_and_added_ones_older_readers()
    {
        var newer = Schema();
        Props(newer)["kind"] = new JsonObject { ["enum"] = new JsonArray("Group", "Channel") };

        Breaks(newer, SchemaCompatibilityMode.Backward).Should().Equal("ValueRemoved Sent.kind=\"Direct\"");
        Breaks(newer, SchemaCompatibilityMode.Forward).Should().Equal("ValueAdded Sent.kind=\"Channel\"");
    }

    [Fact]
    public void An_enumeration_that_became_a_free_string_breaks_older_readers_and_the_reverse_newer_ones()
    {
        var freed = Schema();
        Props(freed)["kind"] = new JsonObject { ["type"] = "string" };
        var older = Schema();
        Props(older)["kind"] = new JsonObject { ["type"] = "string" };

        Breaks(freed).Should().Equal("Widened Sent.kind");
        SchemaCompatibility.Check(older, Schema()).Select(b => b.ToString()).Should().Equal("Narrowed Sent.kind");
    }

    [Fact]
    public void A_removed_record_type_breaks_newer_readers_of_older_records()
    {
        var newer = Schema();
        Sent(newer)["properties"]!["type"] = new JsonObject { ["const"] = "Renamed" };

        Breaks(newer, SchemaCompatibilityMode.Backward).Should().Equal("TypeRemoved Sent");
    }

    [Fact]
    public void Changes_inside_array_items_and_map_values_are_found_with_their_path()
    {
        var newer = Schema();
        Props(newer)["tags"]!["items"]!["properties"]!["key"] = new JsonObject { ["type"] = "integer" };
        Props(newer)["payloads"]!["additionalProperties"] = new JsonObject { ["type"] = "integer" };

        Breaks(newer).Should().Equal("Retyped Sent.tags[].key", "Retyped Sent.payloads{}");
    }

    [Fact]
    public void A_local_ref_is_compared_as_the_schema_it_points_to()
    {
        var newer = Schema();
        Props(newer)["copy"] = new JsonObject { ["$ref"] = "#/anyOf/0/properties/tags" };
        var older = Schema();
        Props(older)["copy"] = JsonNode.Parse("""{"type":"array","items":{"type":"object","properties":{"key":{"type":"integer"}},"required":["key"]}}""");

        SchemaCompatibility.Check(older, newer).Select(b => b.ToString()).Should().Equal("Retyped Sent.copy[].key");
    }

    [Fact]
    public void A_keyword_the_check_does_not_understand_fails_loudly_instead_of_passing()
    {
        var newer = Schema();
        Props(newer)["id"] = new JsonObject { ["type"] = "string", ["maxLength"] = 128 };

        var check = () => SchemaCompatibility.Check(Schema(), newer);

        check.Should().Throw<NotSupportedException>().WithMessage("*maxLength*");
    }
}
