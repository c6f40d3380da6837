using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Schema;
using System.Text.Json.Serialization.Metadata;

namespace Messaging.Contracts.Serialization;

/// <summary>
/// JSON Schemas of the wire records, generated from the same source-generated metadata that
/// serializes them, so the published schemas (src/Contracts/Schemas) cannot drift from the code:
/// a unit test compares them.
/// </summary>
public static class ContractSchemas
{
    public static IReadOnlyDictionary<string, JsonTypeInfo> Families { get; } = new Dictionary<string, JsonTypeInfo>(StringComparer.Ordinal)
    {
        ["chat-commands"] = ContractsJsonContext.Default.ChatCommand,
        ["chat-events"] = ContractsJsonContext.Default.ChatEvent,
        ["device-commands"] = ContractsJsonContext.Default.DeviceCommand,
        ["device-records"] = ContractsJsonContext.Default.DeviceRecord,
        ["node-deliveries"] = ContractsJsonContext.Default.NodeDelivery,
        ["parked-record"] = ContractsJsonContext.Default.ParkedRecord,
        ["client-frames"] = ContractsJsonContext.Default.ClientFrame,
        ["server-frames"] = ContractsJsonContext.Default.ServerFrame,
    };

    /// <summary>The schema version (<c>v</c>) each family's records currently carry, named in the title.</summary>
    public static IReadOnlyDictionary<string, int> Versions { get; } = new Dictionary<string, int>(StringComparer.Ordinal)
    {
        ["chat-commands"] = SchemaVersions.Initial,
        ["device-commands"] = SchemaVersions.Initial,
        ["chat-events"] = SchemaVersions.ChatEvents,
        ["device-records"] = SchemaVersions.DeviceRecords,
        ["node-deliveries"] = SchemaVersions.NodeDeliveries,
        ["parked-record"] = SchemaVersions.Initial,
        ["client-frames"] = SchemaVersions.Initial,
        ["server-frames"] = SchemaVersions.Initial,
    };

    public static string Generate(string family)
    {
        var schema = JsonSchemaExporter.GetJsonSchemaAsNode(Families[family], new JsonSchemaExporterOptions { TreatNullObliviousAsNonNullable = true });
        if (schema is JsonObject obj)
        {
            obj.Insert(0, "$schema", "https://json-schema.org/draft/2020-12/schema");
            obj.Insert(1, "title", "Messaging " + family + " v" + Versions[family].ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        return schema.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }
}
