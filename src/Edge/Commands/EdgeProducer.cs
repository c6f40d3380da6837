using Confluent.Kafka;
using Messaging.Hosting.Kafka;
using Microsoft.Extensions.Options;

namespace Messaging.Edge.Commands;

/// <summary>
/// The node's one Kafka producer (thread-safe, batches across all sockets). Acks=all and the
/// no-reorder settings come from <see cref="KafkaClientFactory"/> and the Kafka profile; this
/// adds the bound on how long a client waits before hearing <c>unavailable</c>.
/// </summary>
internal sealed class EdgeProducer : IDisposable
{
    private readonly IProducer<string, byte[]> _producer;

    public EdgeProducer(KafkaClientFactory clients, IOptions<EdgeOptions> options, ILogger<EdgeProducer> logger)
        : this(clients, options, logger, $"edge-{options.Value.NodeId}", config => LingerFor(config, options.Value.CommandLingerMs))
    {
    }

    /// <summary><c>Edge:CommandLingerMs</c> on the command producer; -1 keeps the Kafka profile's <c>linger.ms</c>.</summary>
    private static void LingerFor(ProducerConfig config, int lingerMs)
    {
        if (lingerMs >= 0)
        {
            config.LingerMs = lingerMs;
        }
    }

    /// <summary>A producer with its own client id and settings on top of the node's (<see cref="AckProducer"/>).</summary>
    internal EdgeProducer(KafkaClientFactory clients, IOptions<EdgeOptions> options, ILogger logger, string clientId, Action<ProducerConfig> configure)
    {
        var config = clients.ProducerConfig(clientId);
        // librdkafka retries until this timeout; after it the send fails and the client retries
        // with the same clientMsgId (the Router de-duplicates), instead of waiting minutes.
        config.MessageTimeoutMs = options.Value.ProduceTimeoutMs;
        configure(config);
        _producer = new ProducerBuilder<string, byte[]>(config)
            .SetLogHandler((_, log) => EdgeLog.KafkaClientLog(logger, log.Facility, log.Message))
            .Build();
    }

    /// <summary>
    /// Appends a record and completes when the broker acknowledged it. The record is handed to
    /// the client library synchronously, before the first await, so records produced in call
    /// order are appended in that order (per partition).
    /// </summary>
    public Task<DeliveryResult<string, byte[]>> ProduceAsync(string topic, string key, byte[] value, CancellationToken cancellationToken) =>
        ProduceAsync(topic, key, value, null, cancellationToken);

    /// <summary>As above, with record headers (null: none; only where the broker has them, <c>Kafka:TraceHeaders</c>).</summary>
    public Task<DeliveryResult<string, byte[]>> ProduceAsync(string topic, string key, byte[] value, Headers? headers, CancellationToken cancellationToken) =>
        _producer.ProduceAsync(topic, new Message<string, byte[]> { Key = key, Value = value, Headers = headers }, cancellationToken);

    public void Dispose()
    {
        try
        {
            _producer.Flush(TimeSpan.FromSeconds(5));
        }
        catch (KafkaException)
        {
            // Shutting down with the broker gone: unacknowledged records were never confirmed to anyone.
        }

        _producer.Dispose();
    }

    /// <summary>Whether a produce failure means "the log is unavailable, retry later".</summary>
    public static bool IsUnavailable(Exception exception) => exception is KafkaException;
}
