namespace Messaging.Router.Routing;

/// <summary>
/// When the Router flushes (acknowledges what it produced, writes the changed chats' states,
/// commits the offsets): see <see cref="CommandProcessor"/>. Every batch when the interval is 0;
/// otherwise once the interval has passed since the last flush, and always before partitions are
/// revoked, so the next owner starts from the last decision.
/// </summary>
public static class StateFlushPolicy
{
    /// <summary>True when the batch about to be decided (possibly none) should end with a flush.</summary>
    public static bool IsDue(bool revoking, bool hasUnflushed, bool hasBatch, TimeSpan sinceLastFlush, TimeSpan interval) =>
        (hasUnflushed || hasBatch) && (revoking || interval <= TimeSpan.Zero || sinceLastFlush >= interval);

    /// <summary>
    /// What the loop does about flushing after deciding a batch (possibly none). A revocation, or a
    /// due flush without pipelining (<c>Router:PipelineFlush</c> false, or an interval of 0: every
    /// batch), flushes blocking, finishing one in flight first. With pipelining a due flush begins
    /// only when none is in flight (one at a time keeps the states of successive flushes in order);
    /// otherwise the one in flight is moved on, never waited for.
    /// </summary>
    public static FlushAction Next(bool revoking, bool hasUnflushed, bool hasBatch, bool inFlight, TimeSpan sinceLastFlush, TimeSpan interval, bool pipelined)
    {
        if (revoking)
        {
            return hasUnflushed || hasBatch || inFlight ? FlushAction.Blocking : FlushAction.None;
        }

        var due = IsDue(revoking: false, hasUnflushed, hasBatch, sinceLastFlush, interval);
        if (!pipelined || interval <= TimeSpan.Zero)
        {
            return due || inFlight ? FlushAction.Blocking : FlushAction.None;
        }

        return due && !inFlight ? FlushAction.Begin : inFlight ? FlushAction.Advance : FlushAction.None;
    }
}

/// <summary>See <see cref="StateFlushPolicy.Next"/>.</summary>
public enum FlushAction
{
    /// <summary>Nothing to flush, or not yet.</summary>
    None,

    /// <summary>Move the flush in flight on without waiting.</summary>
    Advance,

    /// <summary>Move the flush in flight on, then begin a new one without waiting.</summary>
    Begin,

    /// <summary>Flush everything now and wait (a revocation, a stop, or no pipelining).</summary>
    Blocking,
}
