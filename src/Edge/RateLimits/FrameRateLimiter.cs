using System.Threading.RateLimiting;
using Messaging.Contracts.Protocol;

namespace Messaging.Edge.RateLimits;

/// <summary>Which per-device bucket a client frame spends a token from.</summary>
public enum FrameBucket
{
    /// <summary>Not limited: <c>ping</c> costs no I/O.</summary>
    None,
    Sends,
    ChatCreates,
    Membership,
    Reads,
    Acks,
    Typing,
}

/// <summary>The pure mapping of frame types to buckets (docs/protocol.md "Rate limits").</summary>
internal static class FrameBuckets
{
    public const int Count = (int)FrameBucket.Typing;

    public static FrameBucket Of(ClientFrame frame) => frame switch
    {
        SendMessageFrame or EditMessageFrame or DeleteMessageFrame or ReactFrame => FrameBucket.Sends,
        CreateChatFrame => FrameBucket.ChatCreates,
        AddMembersFrame or RemoveMemberFrame or LeaveChatFrame or GrantAdminFrame or RemoveDeviceFrame => FrameBucket.Membership,
        HistoryFrame or SyncFrame or GetPresenceFrame or WatchPresenceFrame or UnwatchPresenceFrame => FrameBucket.Reads,
        AckFrame or UploadMediaFrame or ReadFrame => FrameBucket.Acks,
        TypingFrame => FrameBucket.Typing,
        SetSettingsFrame => FrameBucket.Membership,
        _ => FrameBucket.None,
    };
}

/// <summary>
/// The per-device token buckets of one connection (it lives on the connection: no shared lookup,
/// no lock shared between sockets). Buckets replenish on use rather than by timer, so ten
/// thousand idle sockets cost no timers; a granted request allocates nothing (the framework
/// returns a cached successful lease). A reconnect starts with full buckets, which is why new
/// connections per user are limited too (<c>RateLimits:ConnectionsPerUser</c>).
/// </summary>
internal sealed class FrameRateLimiter : IDisposable
{
    private readonly TokenBucketRateLimiter?[] _buckets = new TokenBucketRateLimiter?[FrameBuckets.Count];
    private readonly RateLimitOptions _options;

    // Buckets are made on first use: a socket that only acks holds one, not six (measured: the
    // six took 1.5 KiB of every connection, idle or not; docs/benchmarks.md, "Idle: what the
    // broker is asked, and what an idle socket holds").
    public FrameRateLimiter(RateLimitOptions options) => _options = options;

    private TokenBucketRateLimiter Bucket(FrameBucket bucket)
    {
        var index = (int)bucket - 1;
        if (Volatile.Read(ref _buckets[index]) is { } made)
        {
            return made;
        }

        var limiter = new TokenBucketRateLimiter(OptionsOf(bucket).ToLimiterOptions());
        if (Interlocked.CompareExchange(ref _buckets[index], limiter, null) is { } raced)
        {
            // The HTTP fallback can admit two commands of one session at once: the first bucket wins.
            limiter.Dispose();
            return raced;
        }

        return limiter;
    }

    private BucketOptions OptionsOf(FrameBucket bucket) => bucket switch
    {
        FrameBucket.Sends => _options.Sends,
        FrameBucket.ChatCreates => _options.ChatCreates,
        FrameBucket.Membership => _options.Membership,
        FrameBucket.Reads => _options.Reads,
        FrameBucket.Acks => _options.Acks,
        FrameBucket.Typing => _options.Typing,
        _ => throw new ArgumentOutOfRangeException(nameof(bucket), bucket, "not a limited bucket"),
    };

    /// <summary>Spends a token for <paramref name="frame"/>; false with the wait until the next token when the bucket is empty.</summary>
    public bool TryAcquire(ClientFrame frame, out TimeSpan retryAfter)
    {
        retryAfter = TimeSpan.Zero;
        var bucket = FrameBuckets.Of(frame);
        if (bucket == FrameBucket.None)
        {
            return true;
        }

        var limiter = Bucket(bucket);
        limiter.TryReplenish();
        using var lease = limiter.AttemptAcquire();
        if (lease.IsAcquired)
        {
            return true;
        }

        // The framework rounds up to whole replenishment periods: waiting this long is enough.
        retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : limiter.ReplenishmentPeriod;
        return false;
    }

    public void Dispose()
    {
        foreach (var bucket in _buckets)
        {
            bucket?.Dispose();
        }
    }
}
