using Confluent.Kafka;
using Microsoft.Extensions.Options;

namespace Messaging.Hosting.Kafka;

/// <summary>
/// Builds producer and consumer configurations from <see cref="KafkaOptions"/>. Every Kafka client
/// of every process is built from one of these, so constructing it is where librdkafka is loaded.
/// </summary>
public sealed class KafkaClientFactory
{
    public KafkaClientFactory(IOptions<KafkaOptions> options)
    {
        Options = options.Value;
        LibrdkafkaLoader.EnsureLoaded(Options.LibraryPath);
    }

    public KafkaOptions Options { get; }

    public ProducerConfig ProducerConfig(string clientId)
    {
        var settings = Merge(Options.Client, Options.Producer);
        settings["bootstrap.servers"] = Options.BootstrapServers;
        settings["client.id"] = clientId;
        // Durable before acknowledged: a client hears "accepted" only after every in-sync replica has it.
        settings["acks"] = "all";
        return new ProducerConfig(settings);
    }

    public ConsumerConfig ConsumerConfig(string groupId, string clientId)
    {
        var settings = Merge(Options.Client, Options.Consumer);
        settings["bootstrap.servers"] = Options.BootstrapServers;
        settings["client.id"] = clientId;
        settings["group.id"] = groupId;
        // Offsets are committed by the consumer loops only up to finished work.
        settings["enable.auto.commit"] = "false";
        settings["enable.auto.offset.store"] = "false";
        return new ConsumerConfig(settings);
    }

    /// <summary>A consumer for a compacted table's reader: <see cref="ConsumerConfig"/> with <see cref="KafkaOptions.Table"/> on top.</summary>
    public ConsumerConfig TableConsumerConfig(string groupId, string clientId)
    {
        var config = ConsumerConfig(groupId, clientId);
        foreach (var (key, value) in Options.Table)
        {
            config.Set(key, value);
        }

        return config;
    }

    public AdminClientConfig AdminConfig(string clientId)
    {
        var settings = Merge(Options.Client, []);
        settings["bootstrap.servers"] = Options.BootstrapServers;
        settings["client.id"] = clientId;
        return new AdminClientConfig(settings);
    }

    public IProducer<string, byte[]> CreateProducer(string clientId, Action<IProducer<string, byte[]>, LogMessage>? log = null)
    {
        var builder = new ProducerBuilder<string, byte[]>(ProducerConfig(clientId));
        if (log is not null)
        {
            builder.SetLogHandler(log);
        }

        return builder.Build();
    }

    private static Dictionary<string, string> Merge(Dictionary<string, string> a, Dictionary<string, string> b)
    {
        var result = new Dictionary<string, string>(a, StringComparer.Ordinal);
        foreach (var (key, value) in b)
        {
            result[key] = value;
        }

        return result;
    }
}
