using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace Messaging.Edge.RateLimits;

/// <summary>
/// One token bucket: up to <see cref="Burst"/> requests at once, refilled at
/// <see cref="PerSecond"/> (one token every 1/PerSecond seconds). A refused request is told how
/// long until the next token (<c>retryAfterMs</c> / <c>Retry-After</c>).
/// </summary>
public sealed class BucketOptions
{
    public int Burst { get; set; }

    public double PerSecond { get; set; }

    /// <summary>
    /// One token per period, replenished on use (no timer): a bucket per connection must not cost
    /// a timer per connection.
    /// </summary>
    public TokenBucketRateLimiterOptions ToLimiterOptions(bool autoReplenishment = false) => new()
    {
        TokenLimit = Burst,
        TokensPerPeriod = 1,
        ReplenishmentPeriod = TimeSpan.FromSeconds(1 / PerSecond),
        QueueLimit = 0,
        AutoReplenishment = autoReplenishment,
    };
}

/// <summary>
/// Abuse limits (section <c>RateLimits</c>), validated at start; docs/protocol.md "Rate limits"
/// gives the reasoning behind each default. Sized for a human on a phone: a person types a few
/// messages a minute and a fast forwarder a few per second, so only scripts reach them.
/// </summary>
public sealed class RateLimitOptions
{
    public const string Section = "RateLimits";

    /// <summary><c>message.send</c> per device: 20/s sustained, bursts of 100 (pasting, forwarding a batch, an offline outbox flushing on reconnect).</summary>
    public BucketOptions Sends { get; set; } = new() { Burst = 100, PerSecond = 20 };

    /// <summary><c>chat.create</c> per device: each new group is a Router state record; 10 at once, one every 6 s after.</summary>
    public BucketOptions ChatCreates { get; set; } = new() { Burst = 10, PerSecond = 1.0 / 6 };

    /// <summary><c>members.add/remove</c>, <c>chat.leave</c>, <c>admin.grant</c>, <c>device.remove</c> per device: each fans out to every member.</summary>
    public BucketOptions Membership { get; set; } = new() { Burst = 30, PerSecond = 1 };

    /// <summary><c>history</c>, <c>sync</c>, <c>presence.*</c> per device: each is PostgreSQL work; scrolling history is a few pages a second.</summary>
    public BucketOptions Reads { get; set; } = new() { Burst = 50, PerSecond = 10 };

    /// <summary><c>ack</c> and <c>media.upload</c> per device: acks are cumulative, one per received batch is plenty.</summary>
    public BucketOptions Acks { get; set; } = new() { Burst = 500, PerSecond = 100 };

    /// <summary><c>typing</c> per device: a client renews <c>started</c> every few seconds per chat it types in; each fans out to every member's online devices.</summary>
    public BucketOptions Typing { get; set; } = new() { Burst = 10, PerSecond = 1 };

    /// <summary>New WebSocket connections per user (all devices): each registers and announces a session; 6 devices reconnecting at once fit.</summary>
    public BucketOptions ConnectionsPerUser { get; set; } = new() { Burst = 20, PerSecond = 1 };

    /// <summary>WebSocket upgrades per client IP (also counts unauthenticated attempts); a NAT of many phones shares one IP.</summary>
    public BucketOptions UpgradesPerIp { get; set; } = new() { Burst = 200, PerSecond = 20 };

    /// <summary><c>POST /v1/dev/tokens</c> per client IP.</summary>
    public BucketOptions TokensPerIp { get; set; } = new() { Burst = 20, PerSecond = 2 };
}

/// <summary>Every bucket needs a burst of at least one and a positive rate (data annotations do not reach nested objects).</summary>
internal sealed class RateLimitOptionsValidator : IValidateOptions<RateLimitOptions>
{
    public ValidateOptionsResult Validate(string? name, RateLimitOptions options)
    {
        var failures = new List<string>();
        Check(options.Sends, nameof(options.Sends), failures);
        Check(options.ChatCreates, nameof(options.ChatCreates), failures);
        Check(options.Membership, nameof(options.Membership), failures);
        Check(options.Reads, nameof(options.Reads), failures);
        Check(options.Acks, nameof(options.Acks), failures);
        Check(options.Typing, nameof(options.Typing), failures);
        Check(options.ConnectionsPerUser, nameof(options.ConnectionsPerUser), failures);
        Check(options.UpgradesPerIp, nameof(options.UpgradesPerIp), failures);
        Check(options.TokensPerIp, nameof(options.TokensPerIp), failures);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Check(BucketOptions? bucket, string name, List<string> failures)
    {
        if (bucket is null)
        {
            failures.Add($"RateLimits:{name} is required.");
        }
        else if (bucket.Burst is < 1 or > 10_000_000 || !(bucket.PerSecond is >= 0.001 and <= 10_000_000))
        {
            failures.Add($"RateLimits:{name} needs Burst 1-10000000 and PerSecond 0.001-10000000 (got {bucket.Burst}, {bucket.PerSecond}).");
        }
    }
}
