using System.Buffers;
using BenchmarkDotNet.Attributes;
using Messaging.Contracts.Delivery;
using Messaging.Contracts.Events;
using Messaging.Contracts.Serialization;
using Messaging.Router.Routing;

namespace Messaging.Bench.Micro;

/// <summary>
/// <c>delivery.node-k</c> records: the Router writes one per node per event, each Edge node
/// decodes the ones for its devices.
/// </summary>
[MemoryDiagnoser]
public class DeliveryRecordBenchmarks : IDisposable
{
    private readonly ArrayBufferWriter<byte> _buffer = new(4096);
    private EventRouted _record = null!;
    private byte[] _recordUtf8 = [];
    private byte[] _eventUtf8 = [];
    private List<string> _nodeDevices = [];
    private DeliveryEncoder _encoder = null!;

    [GlobalSetup]
    public void SetUp()
    {
        _record = SampleRecords.EventRouted();
        _recordUtf8 = Codecs.Deliveries.Encode(_record);
        _eventUtf8 = Codecs.Events.Encode(_record.Event);
        _nodeDevices = [.. _record.Devices];
        _encoder = new DeliveryEncoder();
    }

    [GlobalCleanup]
    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            _encoder?.Dispose();
        }
    }

    [Benchmark(Description = "Deliveries.Encode EventRouted -> pooled buffer")]
    public int EncodeEventRouted()
    {
        _buffer.ResetWrittenCount();
        Codecs.Deliveries.Encode(_record, _buffer);
        return _buffer.WrittenCount;
    }

    /// <summary>The Router's path: the event is encoded once for chat.events and spliced into each node's record.</summary>
    [Benchmark(Description = "Router DeliveryEncoder.EventRouted (spliced event)")]
    public int EncodeEventRoutedSpliced() => _encoder.EventRouted(_eventUtf8, SampleRecords.At, _nodeDevices).Length;

    [Benchmark(Description = "Deliveries.Decode EventRouted")]
    public NodeDelivery? DecodeEventRouted() => Codecs.Deliveries.Decode(_recordUtf8).Value;

    [Benchmark(Description = "Events.Encode MessageSent -> pooled buffer")]
    public int EncodeMessageSent()
    {
        _buffer.ResetWrittenCount();
        Codecs.Events.Encode(_record.Event, _buffer);
        return _buffer.WrittenCount;
    }

    [Benchmark(Description = "Events.Decode MessageSent")]
    public ChatEvent? DecodeMessageSent() => Codecs.Events.Decode(_eventUtf8).Value;
}
