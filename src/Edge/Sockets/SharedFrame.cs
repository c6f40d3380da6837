using System.Buffers;
using System.Buffers.Binary;
using System.Text.Json;
using Messaging.Contracts.Protocol;
using Messaging.Contracts.Serialization;

namespace Messaging.Edge.Sockets;

/// <summary>
/// One encoded outbound frame in a pooled buffer, shared by every socket it goes to: a delivery
/// for 50 local devices is serialized once, not 50 times. Reference counted: the creator holds
/// one reference, each send queue entry another; the last <see cref="Release"/> returns the
/// buffer to the pool.
/// </summary>
internal sealed class SharedFrame
{
    [ThreadStatic]
    private static Utf8JsonWriter? _threadWriter;

    private static readonly JsonWriterOptions WriterOptions = new() { SkipValidation = true };

    private readonly byte[] _buffer;
    private readonly int _length;
    private byte[]? _wire;
    private int _references = 1;

    private SharedFrame(byte[] buffer, int length, string? chatId, long seq, string type)
    {
        _buffer = buffer;
        _length = length;
        ChatId = chatId;
        Seq = seq;
        Type = type;
    }

    /// <summary>The frame's type name (the metrics' <c>type</c> tag; the runtime caches <c>Type.Name</c>).</summary>
    public string Type { get; }

    /// <summary>The chat event this frame carries (message or chat update), so a socket it is pushed to may ack it; null otherwise.</summary>
    public string? ChatId { get; }

    public long Seq { get; }

    public ReadOnlyMemory<byte> Memory => _buffer.AsMemory(0, _length);

    public int Length => _length;

    /// <summary>
    /// The whole WebSocket frame (an unmasked, final text frame: header, then <see cref="Memory"/>),
    /// built by the first socket that writes it straight to TCP and shared by the rest: a push to
    /// 1,024 local devices frames its bytes once.
    /// </summary>
    public ReadOnlyMemory<byte> Wire
    {
        get
        {
            var wire = Volatile.Read(ref _wire) ?? BuildWire();
            return wire.AsMemory(0, HeaderLength(_length) + _length);
        }
    }

    /// <summary>Current reference count (tests check that every path releases).</summary>
    public int References => Volatile.Read(ref _references);

    /// <summary>Serializes <paramref name="frame"/> as UTF-8 JSON straight into a pooled buffer.</summary>
    public static SharedFrame Encode(ServerFrame frame)
    {
        var output = new PooledBufferWriter(512);
        try
        {
            // One writer per thread, reset onto each new buffer: Utf8JsonWriter is a sizeable object.
            var writer = _threadWriter;
            if (writer is null)
            {
                writer = new Utf8JsonWriter(output, WriterOptions);
                _threadWriter = writer;
            }
            else
            {
                writer.Reset(output);
            }

            JsonSerializer.Serialize(writer, frame, ContractsJsonContext.Default.ServerFrame);
            writer.Flush();
            writer.Reset(Stream.Null);
            var (buffer, length) = output.Detach();
            var type = frame.GetType().Name;
            return frame switch
            {
                MessageFrame m => new SharedFrame(buffer, length, m.ChatId, m.Seq, type),
                ChatUpdatedFrame u => new SharedFrame(buffer, length, u.ChatId, u.Seq, type),
                MessageEditedFrame e => new SharedFrame(buffer, length, e.ChatId, e.Seq, type),
                MessageDeletedFrame d => new SharedFrame(buffer, length, d.ChatId, d.Seq, type),
                ReactionFrame r => new SharedFrame(buffer, length, r.ChatId, r.Seq, type),
                _ => new SharedFrame(buffer, length, null, 0, type),
            };
        }
        catch
        {
            output.Release();
            throw;
        }
    }

    /// <summary>Wraps a frame already encoded into <paramref name="buffer"/> (rented from <see cref="ArrayPool{T}.Shared"/>; the frame returns it).</summary>
    public static SharedFrame FromEncoded(byte[] buffer, int length, string? chatId, long seq, string type) => new(buffer, length, chatId, seq, type);

    /// <summary>RFC 6455 §5.2: 2 bytes up to 125 payload bytes, 4 up to 65,535, 10 beyond.</summary>
    internal static int HeaderLength(int payload) => payload <= 125 ? 2 : payload <= ushort.MaxValue ? 4 : 10;

    /// <summary>Writes the header of a final, unmasked text frame of <paramref name="payload"/> bytes; returns its length.</summary>
    internal static int WriteHeader(Span<byte> target, int payload)
    {
        target[0] = 0x81; // FIN + text
        if (payload <= 125)
        {
            target[1] = (byte)payload;
            return 2;
        }

        if (payload <= ushort.MaxValue)
        {
            target[1] = 126;
            BinaryPrimitives.WriteUInt16BigEndian(target[2..], (ushort)payload);
            return 4;
        }

        target[1] = 127;
        BinaryPrimitives.WriteUInt64BigEndian(target[2..], (ulong)payload);
        return 10;
    }

    private byte[] BuildWire()
    {
        var wire = ArrayPool<byte>.Shared.Rent(HeaderLength(_length) + _length);
        var header = WriteHeader(wire, _length);
        _buffer.AsSpan(0, _length).CopyTo(wire.AsSpan(header));
        var won = Interlocked.CompareExchange(ref _wire, wire, null);
        if (won is null)
        {
            return wire;
        }

        // Another socket built it at the same time: keep theirs.
        ArrayPool<byte>.Shared.Return(wire);
        return won;
    }

    public void AddReference() => Interlocked.Increment(ref _references);

    public void Release()
    {
        var left = Interlocked.Decrement(ref _references);
        if (left == 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            if (_wire is { } wire)
            {
                ArrayPool<byte>.Shared.Return(wire);
            }
        }
        else if (left < 0)
        {
            ThrowOverReleased();
        }
    }

    private static void ThrowOverReleased() => throw new InvalidOperationException("SharedFrame released more often than referenced.");
}
