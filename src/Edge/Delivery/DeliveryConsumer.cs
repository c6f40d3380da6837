using Confluent.Kafka;
using Messaging.Contracts;
using Messaging.Contracts.Delivery;
using Messaging.Contracts.Protocol;
using Messaging.Contracts.Serialization;
using Messaging.Contracts.Topics;
using Messaging.Edge.Devices;
using Messaging.Edge.Sockets;
using Messaging.Edge.Telemetry;
using Messaging.Hosting.Kafka;
using Messaging.Hosting.Telemetry;
using Microsoft.Extensions.Options;

namespace Messaging.Edge.Delivery;

/// <summary>
/// Reads this node's topic <c>delivery.node-{NodeId}</c> and pushes each record to the listed
/// local sockets. It starts at the end of the topic (no consumer group, no commits): anything
/// older is in the devices' inboxes and reaches them through <c>sync</c>. A dedicated thread
/// runs the blocking consume loop; it never waits on a socket (pushes use the non-blocking
/// bounded queues), so one slow client cannot delay the others.
/// </summary>
internal sealed class DeliveryConsumer(
    KafkaClientFactory clients,
    TopicNames topics,
    ConnectionRegistry registry,
    PushLanes lanes,
    DeviceCommandReplies deviceReplies,
    IOptions<EdgeOptions> options,
    TimeProvider clock,
    EdgeMetrics metrics,
    ConsumerLag lag,
    ILogger<DeliveryConsumer> logger) : IHostedService, IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _positioned = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly string _topic = topics.DeliveryNode(options.Value.NodeId);
    private readonly bool _hopTimestamps = options.Value.HopTimestamps;
    private readonly MessageFrameTranscoder _messages = new();
    private readonly ReceiptFrameTranscoder _receipts = new();
    private Thread? _thread;

    /// <summary>Starts the loop and waits until its start position is fixed, so nothing produced after start-up is missed.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _thread = new Thread(Run) { IsBackground = true, Name = "edge-delivery" };
        _thread.Start();
        await _positioned.Task.WaitAsync(cancellationToken);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync();
        if (_thread is null)
        {
            return;
        }

        // The loop commits nothing and holds nothing durable: past the host's stop deadline the
        // background thread is left to die with the process rather than failing the whole stop
        // (under load a librdkafka close outlasted the deadline and the host's stop threw).
        var joined = Task.Run(_thread.Join, CancellationToken.None);
        try
        {
            await joined.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            EdgeLog.DeliveryStopTimedOut(logger, _topic);
        }
    }

    private void Run()
    {
        var token = _stop.Token;
        try
        {
            var config = clients.ConsumerConfig($"edge-{_topic}-{Guid.NewGuid():N}", $"edge-delivery-{options.Value.NodeId}");
            using var consumer = new ConsumerBuilder<string, PooledRecord>(config).SetValueDeserializer(PooledRecordDeserializer.Instance).Build();
            using var admin = new AdminClientBuilder(clients.AdminConfig($"edge-delivery-{options.Value.NodeId}")).Build();
            var metadata = admin.GetMetadata(_topic, TimeSpan.FromSeconds(10));
            var partitions = metadata.Topics.Single(t => t.Topic == _topic).Partitions.Select(p => new TopicPartition(_topic, p.PartitionId)).ToList();
            if (partitions.Count == 0)
            {
                throw new InvalidOperationException($"Topic {_topic} has no partitions.");
            }

            // Resolve "the end" now, explicitly: Offset.End would be resolved lazily and could
            // skip a record produced between start-up and the first fetch.
            var positions = partitions
                .Select(tp => new TopicPartitionOffset(tp, consumer.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(10)).High))
                .ToList();
            consumer.Assign(positions);
            foreach (var position in positions)
            {
                EdgeLog.DeliveryStarted(logger, _topic, position.Offset.Value);
            }

            _positioned.TrySetResult();
            var lagProbe = lag.For($"edge-delivery-{options.Value.NodeId}");
            while (!token.IsCancellationRequested)
            {
                var result = consumer.Consume(TimeSpan.FromMilliseconds(250));
                lagProbe.Observe(consumer);
                if (result is null || result.IsPartitionEOF || result.Message.Value.IsNull)
                {
                    continue;
                }

                var record = result.Message.Value;
                try
                {
                    Push(record.Span, result.Offset.Value, result.Message.Headers);
                }
                finally
                {
                    record.Return();
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            EdgeLog.DeliveryFailed(logger, ex, _topic);
            _positioned.TrySetException(ex);
        }
    }

    /// <summary>
    /// Decodes one record, encodes its frame once and queues the same bytes on every listed local
    /// socket; <paramref name="headers"/> may hold a traced event's <c>traceparent</c> (<c>Kafka:TraceHeaders</c>).
    /// </summary>
    internal void Push(ReadOnlySpan<byte> value, long offset, Headers? headers = null)
    {
        if (_messages.TryTranscode(value, _hopTimestamps ? clock.GetUtcNow() : null, out var message, out var traceparent))
        {
            PushMessage(value, message, traceparent, headers);
            return;
        }

        if (_receipts.TryRead(value))
        {
            PushReceipts(value);
            return;
        }

        var decoded = Codecs.Deliveries.Decode(value);
        if (!decoded.IsOk)
        {
            // A record this build cannot read must not stop the node: skip it (the inbox still has it).
            EdgeLog.UndecodableDelivery(logger, _topic, offset, decoded.Error);
            return;
        }

        var delivery = decoded.Value!;
        if (delivery is DeviceCommandDecided decided)
        {
            // A decision this node waits for (the socket may not be served yet): not a frame.
            // Completed after the pushes before it are on their sockets, as when the delivery
            // thread wrote them itself: its reply follows the frames the Router sent ahead of it.
            lanes.AfterPushed(() => deviceReplies.Complete(decided));
            return;
        }

        if (delivery is ReceiptsRouted receipts)
        {
            // Read by the general path (an older version, a receipt with a property the
            // transcoder does not copy): written again as this build writes it, which it reads.
            var canonical = Codecs.Deliveries.Encode(receipts with { V = SchemaVersions.NodeDeliveries });
            if (_receipts.TryRead(canonical))
            {
                PushReceipts(canonical);
            }
            else
            {
                EdgeLog.UndecodableDelivery(logger, _topic, offset, "the receipts transcoder refused this build's own encoding of the record");
            }

            return;
        }

        if (delivery is CommandRejected rejected)
        {
            metrics.Refused(rejected.Code);
        }

        using var activity = EdgeTracing.StartPush(delivery, headers);
        activity?.SetTag("messaging.delivery.devices", delivery.Devices.Count);

        var frame = DeliveryFrames.ToFrame(delivery, _hopTimestamps ? clock.GetUtcNow() : null);
        if (frame is null)
        {
            return;
        }

        if (DeliveryFrames.PayloadsOf(delivery) is { } payloads)
        {
            PushEach(delivery, frame, payloads);
            return;
        }

        SharedFrame? shared = null;
        var copies = 0;
        try
        {
            foreach (var address in delivery.Devices)
            {
                if (!registry.TryGet(address, out var connection))
                {
                    continue;
                }

                // Encoded lazily: a record for devices that just left costs no serialization.
                shared ??= SharedFrame.Encode(frame);
                lanes.Push(connection, shared);
                copies++;
            }
        }
        finally
        {
            if (shared is not null)
            {
                shared.Release();
                metrics.Delivered(copies);
            }
        }
    }

    /// <summary>A plain message transcoded straight from its record (<see cref="MessageFrameTranscoder"/>): one frame for every listed local socket.</summary>
    private void PushMessage(ReadOnlySpan<byte> record, SharedFrame frame, string? traceparent, Headers? headers)
    {
        var count = _messages.DeviceCount;
        using var activity = EdgeTracing.StartPush(traceparent, headers);
        activity?.SetTag("messaging.delivery.devices", count);
        var copies = 0;
        try
        {
            for (var i = 0; i < count; i++)
            {
                if (registry.TryGet(_messages.Device(record, i), out var connection))
                {
                    lanes.Push(connection, frame);
                    copies++;
                }
            }
        }
        finally
        {
            frame.Release();
            if (copies > 0)
            {
                metrics.Delivered(copies);
            }
        }
    }

    /// <summary>
    /// An encrypted message or edit: each device gets a frame with only its own ciphertext, so one
    /// encoding per device (not one shared by all); plain messages keep the shared frame.
    /// </summary>
    private void PushEach(NodeDelivery delivery, ServerFrame frame, IReadOnlyDictionary<string, string> payloads)
    {
        var copies = 0;
        foreach (var address in delivery.Devices)
        {
            if (!registry.TryGet(address, out var connection))
            {
                continue;
            }

            var own = SharedFrame.Encode(DeliveryFrames.ForDevice(frame, payloads, address));
            try
            {
                lanes.Push(connection, own);
                copies++;
            }
            finally
            {
                own.Release();
            }
        }

        if (copies > 0)
        {
            metrics.Delivered(copies);
        }
    }

    /// <summary>
    /// A chat's receipts (<see cref="ReceiptFrameTranscoder"/>): one frame shared by every listed
    /// device whose user has no receipt in the record, and one per user who has (without their
    /// own), built once for that user's devices (a user's devices are listed together: the record
    /// lists them sender by sender).
    /// </summary>
    private void PushReceipts(ReadOnlySpan<byte> record)
    {
        SharedFrame? shared = null;
        string? ownUser = null;
        SharedFrame? ownFrame = null;
        var copies = 0;
        try
        {
            var count = _receipts.DeviceCount;
            for (var i = 0; i < count; i++)
            {
                if (!registry.TryGet(_receipts.Device(record, i), out var connection))
                {
                    continue;
                }

                var userId = connection.Device.UserId;
                SharedFrame? frame;
                var own = _receipts.IndexOf(record, userId);
                if (own < 0)
                {
                    frame = shared ??= _receipts.Frame(record, -1);
                }
                else
                {
                    if (!string.Equals(ownUser, userId, StringComparison.Ordinal))
                    {
                        ownFrame?.Release();
                        ownUser = userId;
                        ownFrame = _receipts.Frame(record, own);
                    }

                    frame = ownFrame;
                }

                if (frame is not null)
                {
                    lanes.Push(connection, frame);
                    copies++;
                }
            }
        }
        finally
        {
            shared?.Release();
            ownFrame?.Release();
            if (copies > 0)
            {
                metrics.Delivered(copies);
            }
        }
    }

    public void Dispose()
    {
        _stop.Dispose();

        // A loop still running past the stop deadline (see StopAsync) may be writing with it.
        if (_thread is not { IsAlive: true })
        {
            _messages.Dispose();
            _receipts.Dispose();
        }
    }
}
