using System.Threading.Channels;
using Messaging.Contracts.Devices;
using Messaging.Contracts.Protocol;
using Messaging.Contracts.Serialization;
using Messaging.Contracts.Topics;
using Messaging.Edge.Conversation;
using Messaging.Edge.Sockets;
using Microsoft.Extensions.Options;

namespace Messaging.Edge.Commands;

/// <summary>
/// Gathers the node's acks for <c>Edge:AckBatchMs</c> into one <see cref="DeliveriesAcked"/>
/// record of at most <c>Edge:AckBatchMaxAcks</c>, instead of a record per ack. In groups of
/// 1,024 every copy comes back as an ack, and a record per ack cost a produce (its message, task
/// and delivery report: ~15 % of an Edge node's CPU samples), a record in the broker and two
/// decodes in Projections (inbox and archive) per delivered copy (docs/benchmarks.md, "Acks in
/// batches"). Same durability as before: the device's progress counts for receipts only once the
/// broker acknowledged the batch, and a batch that could not be written answers every ack in it
/// with <c>unavailable</c>, so the device sends it again (an ack has no reply otherwise).
/// </summary>
internal sealed class AckBatcher : BackgroundService
{
    private readonly AckProducer _producer;
    private readonly ReceiptAggregator _receipts;
    private readonly TimeProvider _clock;
    private readonly ILogger<AckBatcher> _logger;
    private readonly string _topic;
    private readonly TimeSpan _window;
    private readonly int _maxAcks;
    private readonly int _maxBytes;
    private readonly SemaphoreSlim _inflight;
    private readonly int _maxInflight;
    private readonly Channel<PendingAck> _pending;

    public AckBatcher(AckProducer producer, ReceiptAggregator receipts, TopicNames topics, IOptions<EdgeOptions> options, TimeProvider clock, ILogger<AckBatcher> logger)
    {
        _producer = producer;
        _receipts = receipts;
        _clock = clock;
        _logger = logger;
        _topic = topics.DeviceAcks;
        _window = TimeSpan.FromMilliseconds(options.Value.AckBatchMs);
        _maxAcks = options.Value.AckBatchMaxAcks;
        _maxBytes = options.Value.AckBatchMaxBytes;
        _maxInflight = options.Value.AckBatchesInFlight;
        _inflight = new SemaphoreSlim(_maxInflight, _maxInflight);
        // Bounded: a node whose broker is slow makes ack frames wait (each holds one of its
        // connection's in-flight slots) rather than buffer without end.
        _pending = Channel.CreateBounded<PendingAck>(new BoundedChannelOptions(options.Value.AckQueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    /// <summary>
    /// Queues the ack of <paramref name="connection"/>'s frame <paramref name="frameId"/> for the
    /// next batch; false once the node stopped taking acks (the caller answers <c>unavailable</c>).
    /// </summary>
    public async ValueTask<bool> AddAsync(Connection connection, string? frameId, DeviceAck ack, CancellationToken cancellationToken)
    {
        try
        {
            await _pending.Writer.WriteAsync(new PendingAck(connection, frameId, ack), cancellationToken);
            return true;
        }
        catch (ChannelClosedException)
        {
            return false;
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // Acks already taken are written before the producer goes: the loop drains, then ends.
        _pending.Writer.TryComplete();
        await base.StopAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var reader = _pending.Reader;
        while (await reader.WaitToReadAsync(CancellationToken.None))
        {
            if (_window > TimeSpan.Zero && !stoppingToken.IsCancellationRequested && reader.Count < _maxAcks)
            {
                try
                {
                    await Task.Delay(_window, _clock, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    // Stopping: write what is here now.
                }
            }

            while (reader.Count > 0)
            {
                var batch = new List<PendingAck>(Math.Min(reader.Count, _maxAcks));
                var bytes = 0;
                while (batch.Count < _maxAcks && reader.TryPeek(out var next))
                {
                    // Ids are client-chosen (up to Edge:MaxIdLength): a count alone could pass the broker's record limit.
                    var size = EncodedSizeBound(next.Ack);
                    if (batch.Count > 0 && bytes + size > _maxBytes)
                    {
                        break;
                    }

                    reader.TryRead(out _);
                    batch.Add(next);
                    bytes += size;
                }

                await _inflight.WaitAsync(CancellationToken.None);
                _ = WriteAsync(batch);
            }
        }

        // Every batch started is finished before the producer may be disposed.
        for (var i = 0; i < _maxInflight; i++)
        {
            await _inflight.WaitAsync(CancellationToken.None);
        }
    }

    private async Task WriteAsync(List<PendingAck> batch)
    {
        try
        {
            var acks = new DeviceAck[batch.Count];
            for (var i = 0; i < acks.Length; i++)
            {
                acks[i] = batch[i].Ack;
            }

            var value = Codecs.Devices.Encode(new DeliveriesAcked { Acks = acks });
            try
            {
                await _producer.ProduceAsync(_topic, batch[0].Connection.Address, value, CancellationToken.None);
            }
            catch (Exception ex)
            {
                EdgeLog.AckBatchFailed(_logger, ex, batch.Count);
                var code = EdgeProducer.IsUnavailable(ex) ? ErrorCodes.Unavailable : ErrorCodes.Internal;
                foreach (var pending in batch)
                {
                    pending.Connection.TryPush(new ErrorFrame(pending.FrameId, code, "the ack was not recorded; send it again"));
                }

                return;
            }

            // Delivered = the user's first device to hold it: the senders hear it in the next receipt flush.
            foreach (var pending in batch)
            {
                var ack = pending.Ack;
                _receipts.Note(ack.ChatId, ack.UserId, ConversationStates.Delivered, ack.Seq, ack.AckedAt);
            }
        }
        finally
        {
            _inflight.Release();
        }
    }

    /// <summary>
    /// At least the bytes <paramref name="ack"/> takes in a <see cref="DeliveriesAcked"/> record:
    /// its ids at 6 bytes per character (JSON escapes a non-ASCII character as <c>\uXXXX</c>), and
    /// the property names, seq and time.
    /// </summary>
    internal static int EncodedSizeBound(DeviceAck ack) => (6 * (ack.UserId.Length + ack.DeviceId.Length + ack.ChatId.Length)) + 128;

    public override void Dispose()
    {
        _inflight.Dispose();
        base.Dispose();
    }

    private readonly record struct PendingAck(Connection Connection, string? FrameId, DeviceAck Ack);
}
