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
    // Before AcknowledgedBreaks: static initializers run in textual order.
    /// <summary>The event types chat-events v2 had, each of which carried <c>recipientDevices</c>.</summary>
    private static readonly string[] V2EventTypes = ["ChatCreated", "MessageSent", "MembersAdded", "MemberRemoved", "MemberLeft", "AdminGranted"];

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

    /// <summary>
    /// Which readers each family must keep working (docs/events.md, "Contract rules"): Kafka records
    /// both ways; client frames are read by the server (it must read older clients' frames);
    /// server frames are read by clients (older clients must read newer frames).
    /// </summary>
    public static IReadOnlyDictionary<string, SchemaCompatibilityMode> Compatibility { get; } = new Dictionary<string, SchemaCompatibilityMode>(StringComparer.Ordinal)
    {
        ["chat-commands"] = SchemaCompatibilityMode.Full,
        ["device-commands"] = SchemaCompatibilityMode.Full,
        ["chat-events"] = SchemaCompatibilityMode.Full,
        ["device-records"] = SchemaCompatibilityMode.Full,
        ["node-deliveries"] = SchemaCompatibilityMode.Full,
        ["parked-record"] = SchemaCompatibilityMode.Full,
        ["client-frames"] = SchemaCompatibilityMode.Backward,
        ["server-frames"] = SchemaCompatibilityMode.Forward,
    };

    /// <summary>
    /// The breaks a version bump made on purpose, per family and version (the breaks of v<c>N</c>
    /// against v<c>N-1</c>, as <see cref="SchemaBreak.ToString"/> writes them). Nothing else may
    /// break: a record change the compatibility check finds against any earlier version that is
    /// not listed here fails the unit tests. A bump's readers upcast or park the older version
    /// (docs/events.md, "Versions"); semantic changes the schema cannot show (v2's device addresses
    /// in strings that were bare device ids) are documented there, not here.
    /// </summary>
    public static IReadOnlyDictionary<string, IReadOnlyDictionary<int, IReadOnlyList<string>>> AcknowledgedBreaks { get; } =
        new Dictionary<string, IReadOnlyDictionary<int, IReadOnlyList<string>>>(StringComparer.Ordinal)
        {
            // v3 (issue 10): no recipient list in the log.
            ["chat-events"] = new Dictionary<int, IReadOnlyList<string>>
            {
                [3] = RecipientDevicesRemoved(""),
            },

            // v2 (issue 8): device addresses replaced bare device ids; still v2 when chat-events v3
            // dropped the recipient list of the event an EventRouted carries (node topics are read
            // from their end by the node that owns them, so no reader met an older record).
            ["node-deliveries"] = new Dictionary<int, IReadOnlyList<string>>
            {
                [2] =
                [
                    "Removed EventRouted.deviceIds", "NewlyRequired EventRouted.devices",
                    .. RecipientDevicesRemoved("EventRouted.event"),
                    "Removed CommandRejected.deviceIds", "NewlyRequired CommandRejected.devices",
                    "Removed DuplicateSendIgnored.deviceIds", "NewlyRequired DuplicateSendIgnored.devices",
                ],
            },
        };

    private static string[] RecipientDevicesRemoved(string within) =>
        Array.ConvertAll(V2EventTypes, type => "Removed " + (within.Length == 0 ? type : within + "<" + type + ">") + ".recipientDevices");

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
