using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Messaging.Contracts.Serialization;
using Messaging.Contracts.Topics;
using Messaging.Hosting.Kafka;
using YamlDotNet.Serialization;

namespace Messaging.UnitTests.Contracts;

/// <summary>
/// docs/asyncapi.yaml cannot drift silently from the code: every topic the system provisions is a
/// channel with its partitions and cleanup policy, every frame type Edge reads and writes is a
/// message of the socket and of the HTTP fallback, every record type is a message of its topic, and
/// every payload points at the variant of its own type in the current published schema.
/// (`make test` also runs `asyncapi validate` on it: this test checks content, that one the format.)
/// </summary>
public sealed class AsyncApiDocumentTests
{
    private const string SchemasPrefix = "../src/Contracts/Schemas/";

    private static readonly Lazy<JsonNode> Document = new(() =>
    {
        // YAML → JSON text → JsonNode, so the checks navigate the same way as the schemas'.
        var yaml = new DeserializerBuilder().Build().Deserialize<object>(File.ReadAllText(RepositoryFiles.PathOf("docs", "asyncapi.yaml")));
        return JsonNode.Parse(new SerializerBuilder().JsonCompatible().Build().Serialize(yaml))!;
    });

    [Fact]
    public void Every_topic_the_system_provisions_is_a_channel_with_its_partitions_and_cleanup_policy()
    {
        var topics = TopicProvisioner.AllTopics(new TopicNames(), new KafkaOptions().ChatPartitions, edgeNodes: 3);

        foreach (var topic in topics)
        {
            var channel = ChannelOf(topic.Name);
            channel.Should().NotBeNull($"topic {topic.Name} must be described in docs/asyncapi.yaml");
            var kafka = channel!["bindings"]!["kafka"]!;
            kafka["partitions"]!.ToString().Should().Be(topic.Partitions.ToString(CultureInfo.InvariantCulture), topic.Name);
            kafka["topicConfiguration"]!["cleanup.policy"]!.AsArray().Select(p => p!.ToString())
                .Should().Equal([topic.Compacted ? "compact" : "delete"], topic.Name);
        }
    }

    [Fact]
    public void Every_client_frame_type_edge_accepts_is_a_message_of_the_socket_and_of_the_posted_commands()
    {
        var accepted = TypesOf(ContractSchemas.Families["client-frames"]);

        MessageNames("socket", "client.").Should().BeEquivalentTo(accepted);
        MessageNames("commands", "client.").Should().BeEquivalentTo(accepted);
    }

    [Fact]
    public void Every_server_frame_type_is_a_message_of_the_socket_and_of_the_event_stream()
    {
        var written = TypesOf(ContractSchemas.Families["server-frames"]);

        MessageNames("socket", "server.").Should().BeEquivalentTo(written);
        MessageNames("events", "server.").Should().BeEquivalentTo(written);
    }

    [Theory]
    [InlineData("chatCommands", "chat-commands")]
    [InlineData("chatEvents", "chat-events")]
    [InlineData("userCommands", "device-commands")]
    [InlineData("deliveryNode", "node-deliveries")]
    public void Every_record_type_of_a_topic_family_is_a_message_of_its_channel(string channel, string family)
    {
        MessageNames(channel, "").Should().BeEquivalentTo(TypesOf(ContractSchemas.Families[family]));
    }

    [Fact]
    public void Every_device_record_type_is_a_message_of_one_device_topic()
    {
        string[] channels = ["deviceSessions", "userDevices", "deviceAcks", "userSettings"];

        channels.SelectMany(c => MessageNames(c, "")).Should().BeEquivalentTo(TypesOf(ContractSchemas.Families["device-records"]));
    }

    [Fact]
    public void Every_payload_points_at_its_own_type_in_the_current_published_schema()
    {
        var checkedRefs = 0;
        foreach (var (key, message) in Document.Value["components"]!["messages"]!.AsObject())
        {
            var reference = message!["payload"]!["schema"]?["$ref"]?.GetValue<string>();
            if (reference is null)
            {
                continue; // an inline payload (the Router's internal state snapshot)
            }

            reference.Should().StartWith(SchemasPrefix, key);
            var parts = reference[SchemasPrefix.Length..].Split('#');
            var file = parts[0].Split('/');
            var family = file[0];
            file[1].Should().Be("v" + ContractSchemas.Versions[family].ToString(CultureInfo.InvariantCulture) + ".json", $"{key} must describe the current version of {family}");

            var schema = JsonNode.Parse(File.ReadAllText(RepositoryFiles.PathOf(["src", "Contracts", "Schemas", .. file])))!;
            if (parts.Length > 1)
            {
                var variant = schema["anyOf"]![int.Parse(parts[1].Split('/')[^1], CultureInfo.InvariantCulture)]!;
                variant["properties"]!["type"]!["const"]!.GetValue<string>().Should().Be(message["name"]!.GetValue<string>(), $"{key} points at {reference}");
            }

            checkedRefs++;
        }

        checkedRefs.Should().BeGreaterThan(0);
    }

    private static JsonNode? ChannelOf(string topic)
    {
        foreach (var (_, channel) in Document.Value["channels"]!.AsObject())
        {
            var address = channel!["address"]!.GetValue<string>();
            var parameter = address.IndexOf('{', StringComparison.Ordinal);
            if (address == topic || (parameter > 0 && topic.StartsWith(address[..parameter], StringComparison.Ordinal)
                && topic[parameter..].All(char.IsAsciiDigit)))
            {
                return channel;
            }
        }

        return null;
    }

    /// <summary>The names of a channel's messages whose key starts with <paramref name="keyPrefix"/>, resolved through the components.</summary>
    private static List<string> MessageNames(string channel, string keyPrefix)
    {
        var names = new List<string>();
        foreach (var (key, message) in Document.Value["channels"]![channel]!["messages"]!.AsObject())
        {
            if (!key.StartsWith(keyPrefix, StringComparison.Ordinal))
            {
                continue;
            }

            var reference = message!["$ref"]!.GetValue<string>();
            reference.Should().StartWith("#/components/messages/");
            var resolved = Document.Value["components"]!["messages"]![reference["#/components/messages/".Length..]];
            resolved.Should().NotBeNull($"{reference} must exist");
            names.Add(resolved!["name"]!.GetValue<string>());
        }

        return names;
    }

    private static List<string> TypesOf(JsonTypeInfo family) =>
        family.PolymorphismOptions!.DerivedTypes.Select(d => (string)d.TypeDiscriminator!).ToList();
}
