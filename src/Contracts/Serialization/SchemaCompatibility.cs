using System.Text.Json;
using System.Text.Json.Nodes;

namespace Messaging.Contracts.Serialization;

/// <summary>
/// Which readers must keep working across a change, in the terms schema registries use
/// (Confluent's BACKWARD / FORWARD / FULL, checked against every earlier version: the _TRANSITIVE modes).
/// </summary>
public enum SchemaCompatibilityMode
{
    /// <summary>Readers of the newer schema read records written with the older one (the server reading frames of older clients).</summary>
    Backward,

    /// <summary>Readers of the older schema read records written with the newer one (older clients reading newer server frames).</summary>
    Forward,

    /// <summary>
    /// Both: Kafka records. Rebuilds and the archive replay every older record with today's readers,
    /// and consumers built for an older schema (analytics, a service not yet redeployed) read the newer records.
    /// </summary>
    Full,
}

/// <summary>What makes a newer schema of a record family unreadable for one side of the wire.</summary>
public enum SchemaBreakKind
{
    /// <summary>
    /// A field of the older schema is gone. Breaks older readers even when the field was optional:
    /// a consumer that used it silently loses data (an analytics column goes null) instead of failing.
    /// </summary>
    Removed,

    /// <summary>A field's JSON type, format, const or shape changed: neither side reads the other's value.</summary>
    Retyped,

    /// <summary>A field accepts more JSON types than before (e.g. it became nullable): older readers fail on the new values.</summary>
    Widened,

    /// <summary>A field accepts fewer JSON types than before: newer readers fail on older records.</summary>
    Narrowed,

    /// <summary>A field is required now that was optional or absent before: older records lack it, a newer reader refuses them.</summary>
    NewlyRequired,

    /// <summary>A required field became optional: newer records may lack it, an older reader refuses them.</summary>
    NoLongerRequired,

    /// <summary>An enumeration lost a value: older records that carry it no longer decode.</summary>
    ValueRemoved,

    /// <summary>An enumeration gained a value: an older reader (a .NET enum, a SQL check) fails on it.</summary>
    ValueAdded,

    /// <summary>A record type (a <c>type</c> discriminator value) is gone: its older records no longer decode.</summary>
    TypeRemoved,
}

/// <summary>One incompatibility between two versions of a schema, at <see cref="Path"/> (e.g. <c>MessageSent.attachments[].size</c>).</summary>
public sealed record SchemaBreak(SchemaBreakKind Kind, string Path)
{
    /// <summary>Readers of the newer schema fail on records written with the older one.</summary>
    public bool BreaksNewerReaders => Kind is SchemaBreakKind.Retyped or SchemaBreakKind.Narrowed or SchemaBreakKind.NewlyRequired
        or SchemaBreakKind.ValueRemoved or SchemaBreakKind.TypeRemoved;

    /// <summary>Readers of the older schema fail on (or silently lose data of) records written with the newer one.</summary>
    public bool BreaksOlderReaders => Kind is SchemaBreakKind.Removed or SchemaBreakKind.Retyped or SchemaBreakKind.Widened
        or SchemaBreakKind.NoLongerRequired or SchemaBreakKind.ValueAdded;

    public bool Breaks(SchemaCompatibilityMode mode) => mode switch
    {
        SchemaCompatibilityMode.Backward => BreaksNewerReaders,
        SchemaCompatibilityMode.Forward => BreaksOlderReaders,
        _ => BreaksNewerReaders || BreaksOlderReaders,
    };

    public override string ToString() => Kind + " " + Path;
}

/// <summary>
/// Reader/writer compatibility between two JSON Schemas of one record family. For Kafka records
/// both directions matter (<see cref="SchemaCompatibilityMode.Full"/>): a reader built for the
/// newer schema reads older records (rebuilds replay <c>chat.events</c> from offset 0, the archive
/// keeps every version), and readers built for the older schema read newer records until they are
/// redeployed (analytics consumers upgrade on their own schedule). So there a change is compatible
/// only when it adds an optional field or a new record type (readers skip types they do not know,
/// docs/events.md); every <see cref="SchemaBreakKind"/> breaks one side.
/// </summary>
/// <remarks>
/// Hand-written: no package served here checks JSON Schema compatibility (NJsonSchema and
/// JsonSchema.Net validate instances, the Confluent registry's checker runs server-side in Java).
/// It understands exactly the keywords <see cref="System.Text.Json.Schema.JsonSchemaExporter"/>
/// emits for the contracts (type, properties, required, items, additionalProperties, anyOf with a
/// <c>type</c> const discriminator, const, enum, format, default, local <c>$ref</c>) and throws on
/// any other keyword, so a schema it does not understand can never pass unchecked.
/// </remarks>
public static class SchemaCompatibility
{
    private static readonly HashSet<string> Understood = new(StringComparer.Ordinal)
    {
        "$schema", "title", "type", "properties", "required", "items", "additionalProperties", "anyOf", "const", "enum", "format", "default", "$ref",
    };

    /// <summary>The breaks between <paramref name="older"/> and <paramref name="newer"/> that matter in <paramref name="mode"/>, in document order.</summary>
    public static IReadOnlyList<SchemaBreak> Check(JsonNode older, JsonNode newer, SchemaCompatibilityMode mode = SchemaCompatibilityMode.Full)
    {
        ArgumentNullException.ThrowIfNull(older);
        ArgumentNullException.ThrowIfNull(newer);
        var breaks = new List<SchemaBreak>();
        Compare(new Side(older, older), new Side(newer, newer), "", breaks);
        breaks.RemoveAll(b => !b.Breaks(mode));
        return breaks;
    }

    /// <summary>A schema node and the document its local <c>$ref</c>s point into.</summary>
    private readonly record struct Side(JsonNode Root, JsonNode Node)
    {
        public JsonObject Schema => Resolve(Root, Node);

        public Side At(JsonNode node) => new(Root, node);
    }

    private static void Compare(Side older, Side newer, string path, List<SchemaBreak> breaks)
    {
        var o = older.Schema;
        var n = newer.Schema;
        if (o["anyOf"] is JsonArray oldVariants && n["anyOf"] is JsonArray newVariants)
        {
            CompareVariants(older, oldVariants, newer, newVariants, path, breaks);
            return;
        }

        if (o["anyOf"] is not null || n["anyOf"] is not null)
        {
            breaks.Add(new SchemaBreak(SchemaBreakKind.Retyped, Display(path)));
            return;
        }

        if (!Same(o["format"], n["format"]) || !Same(o["const"], n["const"]))
        {
            breaks.Add(new SchemaBreak(SchemaBreakKind.Retyped, Display(path)));
            return;
        }

        var oldTypes = TypesOf(o);
        var newTypes = TypesOf(n);
        if (!oldTypes.SetEquals(newTypes))
        {
            var kind = newTypes.IsSupersetOf(oldTypes) ? SchemaBreakKind.Widened
                : newTypes.IsSubsetOf(oldTypes) ? SchemaBreakKind.Narrowed
                : SchemaBreakKind.Retyped;
            breaks.Add(new SchemaBreak(kind, Display(path)));
            if (kind == SchemaBreakKind.Retyped)
            {
                return;
            }
        }

        CompareEnums(o, n, path, breaks);
        CompareProperties(older, newer, path, breaks);
        CompareNested(older, newer, "items", path + "[]", breaks);
        CompareNested(older, newer, "additionalProperties", path + "{}", breaks);
    }

    private static void CompareVariants(Side older, JsonArray oldVariants, Side newer, JsonArray newVariants, string path, List<SchemaBreak> breaks)
    {
        var byType = new Dictionary<string, JsonNode>(StringComparer.Ordinal);
        foreach (var variant in newVariants)
        {
            byType[Discriminator(newer.At(variant!), path)] = variant!;
        }

        foreach (var variant in oldVariants)
        {
            var type = Discriminator(older.At(variant!), path);
            var variantPath = path.Length == 0 ? type : path + "<" + type + ">";
            if (byType.TryGetValue(type, out var match))
            {
                CompareProperties(older.At(variant!), newer.At(match), variantPath, breaks);
            }
            else
            {
                breaks.Add(new SchemaBreak(SchemaBreakKind.TypeRemoved, variantPath));
            }
        }
    }

    private static void CompareProperties(Side older, Side newer, string path, List<SchemaBreak> breaks)
    {
        var o = older.Schema;
        var n = newer.Schema;
        var oldProps = o["properties"] as JsonObject;
        var newProps = n["properties"] as JsonObject;
        var oldRequired = Required(o);
        var newRequired = Required(n);
        if (oldProps is not null)
        {
            foreach (var (name, schema) in oldProps)
            {
                var fieldPath = Join(path, name);
                if (newProps is null || !newProps.TryGetPropertyValue(name, out var newSchema) || newSchema is null)
                {
                    breaks.Add(new SchemaBreak(SchemaBreakKind.Removed, fieldPath));
                    continue;
                }

                if (oldRequired.Contains(name) && !newRequired.Contains(name))
                {
                    breaks.Add(new SchemaBreak(SchemaBreakKind.NoLongerRequired, fieldPath));
                }
                else if (!oldRequired.Contains(name) && newRequired.Contains(name))
                {
                    breaks.Add(new SchemaBreak(SchemaBreakKind.NewlyRequired, fieldPath));
                }

                Compare(older.At(schema!), newer.At(newSchema), fieldPath, breaks);
            }
        }

        if (newProps is not null)
        {
            foreach (var (name, _) in newProps)
            {
                if ((oldProps is null || !oldProps.ContainsKey(name)) && newRequired.Contains(name))
                {
                    breaks.Add(new SchemaBreak(SchemaBreakKind.NewlyRequired, Join(path, name)));
                }
            }
        }
    }

    private static void CompareNested(Side older, Side newer, string keyword, string path, List<SchemaBreak> breaks)
    {
        var o = older.Schema[keyword];
        var n = newer.Schema[keyword];
        if (o is null && n is null)
        {
            return;
        }

        if (o is JsonObject && n is JsonObject)
        {
            Compare(older.At(o), newer.At(n), path, breaks);
        }
        else if (!Same(o, n))
        {
            breaks.Add(new SchemaBreak(SchemaBreakKind.Retyped, Display(path)));
        }
    }

    private static void CompareEnums(JsonObject o, JsonObject n, string path, List<SchemaBreak> breaks)
    {
        if ((o["enum"] is null) != (n["enum"] is null))
        {
            // An enumeration became a free value (older readers meet values they do not know) or the reverse.
            breaks.Add(new SchemaBreak(o["enum"] is null ? SchemaBreakKind.Narrowed : SchemaBreakKind.Widened, Display(path)));
            return;
        }

        var oldValues = Values(o["enum"]);
        var newValues = Values(n["enum"]);
        foreach (var value in oldValues)
        {
            if (!newValues.Contains(value))
            {
                breaks.Add(new SchemaBreak(SchemaBreakKind.ValueRemoved, Display(path) + "=" + value));
            }
        }

        foreach (var value in newValues)
        {
            if (!oldValues.Contains(value))
            {
                breaks.Add(new SchemaBreak(SchemaBreakKind.ValueAdded, Display(path) + "=" + value));
            }
        }
    }

    private static string Discriminator(Side variant, string path)
    {
        var schema = variant.Schema;
        CheckKeywords(schema);
        return schema["properties"]?["type"]?["const"]?.GetValue<string>()
            ?? throw new NotSupportedException("an anyOf variant without a 'type' const at '" + Display(path) + "': only discriminated unions are understood");
    }

    private static JsonObject Resolve(JsonNode root, JsonNode node)
    {
        var schema = node as JsonObject ?? throw new NotSupportedException("a schema that is not an object: " + node.ToJsonString());
        for (var hops = 0; schema["$ref"] is JsonNode reference; hops++)
        {
            var pointer = reference.GetValue<string>();
            if (!pointer.StartsWith("#/", StringComparison.Ordinal) || hops > 32)
            {
                throw new NotSupportedException("only local $refs are understood: " + pointer);
            }

            JsonNode? target = root;
            foreach (var segment in pointer[2..].Split('/'))
            {
                var token = segment.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
                target = target is JsonArray array ? array[int.Parse(token, System.Globalization.CultureInfo.InvariantCulture)] : target?[token];
            }

            schema = target as JsonObject ?? throw new NotSupportedException("a $ref to nothing: " + pointer);
        }

        CheckKeywords(schema);
        return schema;
    }

    private static void CheckKeywords(JsonObject schema)
    {
        foreach (var (keyword, _) in schema)
        {
            if (!Understood.Contains(keyword))
            {
                throw new NotSupportedException("schema keyword '" + keyword + "' is not understood by the compatibility check; teach it before publishing");
            }
        }
    }

    /// <summary>The JSON types a value may have; an enum or const without <c>type</c> takes its values' types.</summary>
    private static HashSet<string> TypesOf(JsonObject schema)
    {
        var types = new HashSet<string>(StringComparer.Ordinal);
        switch (schema["type"])
        {
            case JsonArray array:
                foreach (var t in array)
                {
                    types.Add(t!.GetValue<string>());
                }

                break;
            case JsonValue single:
                types.Add(single.GetValue<string>());
                break;
            default:
                if (schema["enum"] is JsonArray values)
                {
                    foreach (var value in values)
                    {
                        types.Add(KindOf(value));
                    }
                }
                else if (schema.ContainsKey("const"))
                {
                    types.Add(KindOf(schema["const"]));
                }

                break;
        }

        return types;
    }

    /// <summary>The JSON Schema type name of a literal, so an enum compares with a declared <c>type</c>.</summary>
    private static string KindOf(JsonNode? value) => value?.GetValueKind() switch
    {
        null or JsonValueKind.Null => "null",
        JsonValueKind.String => "string",
        JsonValueKind.Number => "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        JsonValueKind.Array => "array",
        _ => "object",
    };

    private static HashSet<string> Required(JsonObject schema)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        if (schema["required"] is JsonArray required)
        {
            foreach (var name in required)
            {
                names.Add(name!.GetValue<string>());
            }
        }

        return names;
    }

    private static HashSet<string> Values(JsonNode? enumeration)
    {
        var values = new HashSet<string>(StringComparer.Ordinal);
        if (enumeration is JsonArray array)
        {
            foreach (var value in array)
            {
                values.Add(value is null ? "null" : value.ToJsonString());
            }
        }

        return values;
    }

    private static bool Same(JsonNode? a, JsonNode? b) => JsonNode.DeepEquals(a, b);

    private static string Join(string path, string name) => path.Length == 0 ? name : path + "." + name;

    private static string Display(string path) => path.Length == 0 ? "(record)" : path;
}
