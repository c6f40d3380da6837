using System.ComponentModel.DataAnnotations;

namespace Messaging.Hosting.Kafka;

/// <summary>
/// Kafka client settings, bound from the <c>Kafka</c> section. Everything that differs between
/// the local 0.9 broker and a modern 3.x/4.x cluster lives in a profile file
/// (<c>kafka-profile.{Profile}.json</c>) or in <see cref="Client"/>/<see cref="Producer"/>/<see cref="Consumer"/>,
/// never in code.
/// </summary>
public sealed class KafkaOptions
{
    public const string Section = "Kafka";

    [Required]
    public string BootstrapServers { get; set; } = "127.0.0.1:9092";

    /// <summary><c>Modern</c> (Kafka ≥ 2.x) or <c>Legacy09</c> (the bundled 0.9.0.1 broker).</summary>
    [Required]
    public string Profile { get; set; } = "Modern";

    /// <summary>
    /// Whether the broker takes record headers: then a traced message's records (its command, its
    /// events, its node deliveries) carry its W3C <c>traceparent</c> as a Kafka header
    /// (<see cref="Telemetry.TraceHeaders"/>) instead of inside the record. On in the <c>Modern</c> profile; off in <c>Legacy09</c> (Kafka 0.9 has no headers).
    /// </summary>
    public bool TraceHeaders { get; set; }

    /// <summary>Prefix for every topic name: an isolated namespace per environment or test class.</summary>
    public string TopicPrefix { get; set; } = "";

    /// <summary>How missing topics are created: <c>AdminApi</c> (CreateTopics, Kafka ≥ 0.10.1) or <c>AutoCreate</c> (broker-side, 0.9).</summary>
    public string TopicCreation { get; set; } = "AdminApi";

    /// <summary>Partitions of per-chat topics when this process creates them (AdminApi mode).</summary>
    [Range(1, 1024)]
    public int ChatPartitions { get; set; } = 8;

    /// <summary>
    /// The native librdkafka file to load (absolute, or relative to the application directory);
    /// empty: the package's <c>centos8-librdkafka.so</c> on linux-x64 (see <see cref="LibrdkafkaLoader"/>).
    /// </summary>
    public string LibraryPath { get; set; } = "";

    /// <summary>librdkafka settings for every client.</summary>
    public Dictionary<string, string> Client { get; set; } = [];

    /// <summary>librdkafka settings for producers (on top of <see cref="Client"/>).</summary>
    public Dictionary<string, string> Producer { get; set; } = [];

    /// <summary>librdkafka settings for consumers (on top of <see cref="Client"/>).</summary>
    public Dictionary<string, string> Consumer { get; set; } = [];

    /// <summary>
    /// librdkafka settings for the readers of compacted tables (<see cref="CompactedTopicTable{TValue}"/>,
    /// on top of <see cref="Consumer"/>): they tail their topic for the life of the process and
    /// never seek, pause or rebalance after start, so a longer long poll only costs fewer idle fetches.
    /// </summary>
    public Dictionary<string, string> Table { get; set; } = [];
}
