using System.Buffers;
using Confluent.Kafka;

namespace Messaging.Edge.Delivery;

/// <summary>A node record's value in a buffer rented from the shared pool; <see cref="Return"/> gives it back once the record is pushed.</summary>
internal readonly record struct PooledRecord(byte[]? Buffer, int Length)
{
    public bool IsNull => Buffer is null;

    public ReadOnlySpan<byte> Span => Buffer.AsSpan(0, Length);

    public void Return()
    {
        if (Buffer is { Length: > 0 })
        {
            ArrayPool<byte>.Shared.Return(Buffer);
        }
    }
}

/// <summary>
/// Copies each value out of librdkafka into a pooled buffer instead of a new array: the delivery
/// thread copied every node record (~34 KB for a group of 1,024) into an array dropped right after
/// its push, 10 % of an Edge node's allocated bytes in groups of 1,024 (nineteenth session's
/// allocation trace, docs/benchmarks.md). Nothing holds a record past its push: frames are encoded
/// into buffers of their own and device addresses are read while pushing.
/// </summary>
internal sealed class PooledRecordDeserializer : IDeserializer<PooledRecord>
{
    public static PooledRecordDeserializer Instance { get; } = new();

    public PooledRecord Deserialize(ReadOnlySpan<byte> data, bool isNull, SerializationContext context)
    {
        if (isNull)
        {
            return default;
        }

        if (data.IsEmpty)
        {
            return new PooledRecord([], 0);
        }

        var buffer = ArrayPool<byte>.Shared.Rent(data.Length);
        data.CopyTo(buffer);
        return new PooledRecord(buffer, data.Length);
    }
}
