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
}
