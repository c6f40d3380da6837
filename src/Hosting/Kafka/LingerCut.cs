namespace Messaging.Hosting.Kafka;

/// <summary>
/// Ends a lingering batch of <see cref="ConsumerBatching.Drain"/> early, from another thread: a
/// reader that waits for what the batch holds asks, and the batch closes with what was fetched
/// instead of staying open for the rest of its linger. A request made between batches ends the
/// next batch's linger. While a batch lingers, the request is looked at every <see cref="Poll"/>.
/// </summary>
public sealed class LingerCut(TimeSpan poll)
{
    private int _requested;

    public TimeSpan Poll { get; } = poll > TimeSpan.Zero ? poll : throw new ArgumentOutOfRangeException(nameof(poll), poll, "must be positive");

    public void Request() => Volatile.Write(ref _requested, 1);

    /// <summary>True once per request (clears it).</summary>
    public bool TryTake() => Interlocked.Exchange(ref _requested, 0) == 1;
}
