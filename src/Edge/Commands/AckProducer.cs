using Confluent.Kafka;
using Microsoft.Extensions.Options;

namespace Messaging.Edge.Commands;

/// <summary>
/// Where a node's <c>device.acks</c> records and the <c>ReceiptsRouted</c> they lead to go: a
/// producer of their own that lingers
/// <c>Edge:AckLingerMs</c> (its own broker connection, so ack requests never queue in front of a
/// command on the command producer's one in-flight request), or, at -1, the command producer.
/// Same durability as every produce: acks=all, and a record is confirmed only once acknowledged.
/// </summary>
internal sealed class AckProducer : IDisposable
{
    private readonly EdgeProducer _producer;
    private readonly bool _own;

    public AckProducer(EdgeProducer commands, Hosting.Kafka.KafkaClientFactory clients, IOptions<EdgeOptions> options, ILogger<AckProducer> logger)
    {
        var linger = options.Value.AckLingerMs;
        _own = linger >= 0;
        _producer = _own
            ? new EdgeProducer(clients, options, logger, $"edge-{options.Value.NodeId}-acks", config => config.LingerMs = linger)
            : commands;
    }

    /// <summary>The producer itself (receipts go through <c>NodeRouting</c>, as typing does through the command producer).</summary>
    public EdgeProducer Producer => _producer;

    /// <summary>Appends an ack record; completes when the broker acknowledged it.</summary>
    public Task<DeliveryResult<string, byte[]>> ProduceAsync(string topic, string key, byte[] value, CancellationToken cancellationToken) =>
        _producer.ProduceAsync(topic, key, value, cancellationToken);

    public void Dispose()
    {
        if (_own)
        {
            _producer.Dispose();
        }
    }
}
