using System.Buffers;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Messaging.Bench.Connections;
using Messaging.Contracts.Devices;
using Messaging.Contracts.Protocol;
using Messaging.Contracts.Serialization;

namespace Messaging.Bench.Micro;

/// <summary>
/// Edge's per-frame work: parse what a client sends, serialize what it pushes. Serialization goes
/// into one reused pooled buffer, as on a connection's send path.
/// </summary>
[MemoryDiagnoser]
public class FrameBenchmarks : IDisposable
{
    private readonly ArrayBufferWriter<byte> _buffer = new(4096);
    private byte[] _sendFrame = [];
    private byte[] _ackFrame = [];
    private byte[] _ackBatch = [];
    private byte[] _messageFrameUtf8 = [];
    private ServerFrame _messageFrame = null!;
    private Utf8JsonWriter _writer = null!;

    [GlobalSetup]
    public void SetUp()
    {
        _sendFrame = SampleRecords.SendFrameUtf8();
        _ackFrame = SampleRecords.AckFrameUtf8();
        _ackBatch = Codecs.Devices.Encode(SampleRecords.AckBatch(1000));
        _messageFrame = SampleRecords.MessageFrame();
        _messageFrameUtf8 = Codecs.ServerFrames.Encode(_messageFrame);
        _writer = new Utf8JsonWriter(_buffer);
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
            _writer?.Dispose();
        }
    }

    [Benchmark(Description = "ClientFrames.Decode message.send")]
    public ClientFrame? DecodeSendFrame() => Codecs.ClientFrames.Decode(_sendFrame).Value;

    [Benchmark(Description = "ClientFrames.Decode ack")]
    public ClientFrame? DecodeAckFrame() => Codecs.ClientFrames.Decode(_ackFrame).Value;

    /// <summary>What the codec did before its hand-written ack reader (PerCopyReaders).</summary>
    [Benchmark(Description = "ack by the source-generated metadata")]
    public ClientFrame? DecodeAckFrameByMetadata() => JsonSerializer.Deserialize(_ackFrame, ContractsJsonContext.Default.ClientFrame);

    /// <summary>An Edge node's batch of acks (Edge:AckBatchMaxAcks, 1,000), as Projections reads it twice.</summary>
    [Benchmark(Description = "Devices.Decode DeliveriesAcked x1000")]
    public DeviceRecord? DecodeAckBatch() => Codecs.Devices.Decode(_ackBatch).Value;

    [Benchmark(Description = "DeliveriesAcked x1000 by the source-generated metadata")]
    public DeviceRecord? DecodeAckBatchByMetadata() => JsonSerializer.Deserialize(_ackBatch, ContractsJsonContext.Default.DeviceRecord);

    /// <summary>The codec's buffer overload: a new Utf8JsonWriter per call.</summary>
    [Benchmark(Description = "ServerFrames.Encode message -> pooled buffer")]
    public int EncodeMessageFrame()
    {
        _buffer.ResetWrittenCount();
        Codecs.ServerFrames.Encode(_messageFrame, _buffer);
        return _buffer.WrittenCount;
    }

    /// <summary>The same with the writer reused per connection: what the allocation budget asks for.</summary>
    [Benchmark(Description = "Serialize message -> pooled buffer, reused writer")]
    public int EncodeMessageFrameReusedWriter()
    {
        _buffer.ResetWrittenCount();
        _writer.Reset(_buffer);
        JsonSerializer.Serialize(_writer, _messageFrame, ContractsJsonContext.Default.ServerFrame);
        _writer.Flush();
        return _buffer.WrittenCount;
    }

    /// <summary>The load generator's per-delivery parse (it shares the cores with the system it measures).</summary>
    [Benchmark(Description = "Bench ServerFrameScanner.Scan message")]
    public long ScanMessageFrame() => ServerFrameScanner.Scan(_messageFrameUtf8).Seq;
}
