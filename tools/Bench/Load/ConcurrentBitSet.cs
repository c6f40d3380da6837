namespace Messaging.Bench.Load;

/// <summary>
/// A set of non-negative indices, safe for concurrent <see cref="TrySet"/> from many threads, grown
/// in fixed chunks allocated on first use (so a generous capacity costs nothing until used and a
/// set bit is never lost to a resize).
/// </summary>
public sealed class ConcurrentBitSet
{
    private const int WordsPerChunk = 64;
    private const int BitsPerChunk = WordsPerChunk * 64;

    private readonly ulong[]?[] _chunks;

    public ConcurrentBitSet(long capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        Capacity = capacity;
        _chunks = new ulong[]?[(capacity + BitsPerChunk - 1) / BitsPerChunk];
    }

    public long Capacity { get; }

    /// <summary>Sets the bit; true when this call set it, false when it was already set.</summary>
    public bool TrySet(long index)
    {
        if ((ulong)index >= (ulong)Capacity)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"Bit set capacity is {Capacity}.");
        }

        var chunk = Chunk(index / BitsPerChunk);
        var bit = index % BitsPerChunk;
        var mask = 1UL << (int)(bit % 64);
        var previous = Interlocked.Or(ref chunk[bit / 64], mask);
        return (previous & mask) == 0;
    }

    public bool Contains(long index)
    {
        if ((ulong)index >= (ulong)Capacity)
        {
            return false;
        }

        var chunk = Volatile.Read(ref _chunks[index / BitsPerChunk]);
        if (chunk is null)
        {
            return false;
        }

        var bit = index % BitsPerChunk;
        return (Volatile.Read(ref chunk[bit / 64]) & (1UL << (int)(bit % 64))) != 0;
    }

    private ulong[] Chunk(long chunkIndex)
    {
        var chunk = Volatile.Read(ref _chunks[chunkIndex]);
        if (chunk is not null)
        {
            return chunk;
        }

        var fresh = new ulong[WordsPerChunk];
        return Interlocked.CompareExchange(ref _chunks[chunkIndex], fresh, null) ?? fresh;
    }
}
