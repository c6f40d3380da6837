using Messaging.Contracts.Protocol;
using Messaging.Edge.RateLimits;

namespace Messaging.UnitTests.Edge;

public sealed class FrameRateLimiterTests
{
    private static readonly SendMessageFrame Send = new() { ChatId = "c", ClientMsgId = "m", Body = "x" };

    public static TheoryData<ClientFrame, FrameBucket> EveryFrameType() => new()
    {
        { Send, FrameBucket.Sends },
        { new CreateChatFrame { Members = [] }, FrameBucket.ChatCreates },
        { new AddMembersFrame { ChatId = "c", UserIds = ["a"] }, FrameBucket.Membership },
        { new RemoveMemberFrame { ChatId = "c", UserId = "a" }, FrameBucket.Membership },
        { new LeaveChatFrame { ChatId = "c" }, FrameBucket.Membership },
        { new GrantAdminFrame { ChatId = "c", UserId = "a" }, FrameBucket.Membership },
        { new RemoveDeviceFrame { DeviceId = "d" }, FrameBucket.Membership },
        { new HistoryFrame { ChatId = "c" }, FrameBucket.Reads },
        { new SyncFrame(), FrameBucket.Reads },
        { new GetPresenceFrame { UserIds = ["a"] }, FrameBucket.Reads },
        { new WatchPresenceFrame { UserIds = ["a"] }, FrameBucket.Reads },
        { new UnwatchPresenceFrame { UserIds = ["a"] }, FrameBucket.Reads },
        { new AckFrame { ChatId = "c", Seq = 1 }, FrameBucket.Acks },
        { new UploadMediaFrame { ContentType = "a/b", Size = 1 }, FrameBucket.Acks },
        { new EditMessageFrame { ChatId = "c", MessageId = "m", Body = "x" }, FrameBucket.Sends },
        { new DeleteMessageFrame { ChatId = "c", MessageId = "m" }, FrameBucket.Sends },
        { new ReactFrame { ChatId = "c", MessageId = "m", Emoji = "👍" }, FrameBucket.Sends },
        { new PingFrame(), FrameBucket.None },
        { new ReadFrame { ChatId = "c", Seq = 1 }, FrameBucket.Acks },
        { new TypingFrame { ChatId = "c", State = ConversationStates.Started }, FrameBucket.Typing },
        { new SetSettingsFrame { ReadReceipts = false }, FrameBucket.Membership },
    };

    [Theory]
    [MemberData(nameof(EveryFrameType))]
    public void Every_frame_type_spends_from_its_documented_bucket(ClientFrame frame, FrameBucket bucket) =>
        FrameBuckets.Of(frame).Should().Be(bucket);

    [Fact]
    public void Every_client_frame_type_is_mapped()
    {
        var mapped = EveryFrameType().Select(row => row[0]!.GetType()).ToHashSet();
        var all = typeof(ClientFrame).Assembly.GetTypes().Where(t => t.IsSubclassOf(typeof(ClientFrame)) && !t.IsAbstract);
        all.Should().BeSubsetOf(mapped);
    }

    [Fact]
    public void A_burst_is_granted_then_refused_with_the_wait_until_the_next_token()
    {
        // One token a minute: nothing refills while the test runs.
        using var limiter = new FrameRateLimiter(Options(sends: new BucketOptions { Burst = 5, PerSecond = 1.0 / 60 }));

        var granted = Enumerable.Range(0, 8).Count(i => limiter.TryAcquire(Send, out _));

        granted.Should().Be(5);
        limiter.TryAcquire(Send, out var retryAfter).Should().BeFalse();
        retryAfter.Should().BeGreaterThan(TimeSpan.FromSeconds(50)).And.BeLessThanOrEqualTo(TimeSpan.FromSeconds(60));
    }

    [Fact]
    public void Buckets_are_independent_and_ping_is_never_limited()
    {
        using var limiter = new FrameRateLimiter(Options(sends: new BucketOptions { Burst = 1, PerSecond = 1.0 / 60 }));
        limiter.TryAcquire(Send, out _).Should().BeTrue();
        limiter.TryAcquire(Send, out _).Should().BeFalse();

        limiter.TryAcquire(new HistoryFrame { ChatId = "c" }, out _).Should().BeTrue("reads have their own bucket");
        Enumerable.Range(0, 10_000).All(i => limiter.TryAcquire(new PingFrame(), out _)).Should().BeTrue();
    }

    [Fact]
    public async Task An_empty_bucket_refills_at_its_rate()
    {
        using var limiter = new FrameRateLimiter(Options(sends: new BucketOptions { Burst = 1, PerSecond = 50 }));
        limiter.TryAcquire(Send, out _).Should().BeTrue();
        limiter.TryAcquire(Send, out var retryAfter).Should().BeFalse();
        retryAfter.Should().BeCloseTo(TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(1));

        // Waiting the advertised time is enough (a wait, not a timing assertion). Plus 2 ms: .NET
        // timers count whole milliseconds (Environment.TickCount64), so a delay can end up to 1 ms
        // before the Stopwatch the limiter reads says it has passed; the bare delay failed once in CI.
        await Task.Delay(retryAfter + TimeSpan.FromMilliseconds(2));
        limiter.TryAcquire(Send, out _).Should().BeTrue();
    }

    [Fact]
    public void The_defaults_are_sized_for_a_human_on_a_phone()
    {
        var defaults = new RateLimitOptions();
        defaults.Sends.PerSecond.Should().BeLessThanOrEqualTo(20);
        defaults.Sends.Burst.Should().BeLessThanOrEqualTo(100);
        new RateLimitOptionsValidator().Validate(null, defaults).Succeeded.Should().BeTrue();
    }

    [Fact]
    public void A_bucket_without_burst_or_rate_fails_validation()
    {
        var validator = new RateLimitOptionsValidator();
        validator.Validate(null, Options(sends: new BucketOptions { Burst = 0, PerSecond = 1 })).FailureMessage.Should().Contain("RateLimits:Sends");
        validator.Validate(null, new RateLimitOptions { Reads = new BucketOptions { Burst = 1, PerSecond = 0 } }).FailureMessage.Should().Contain("RateLimits:Reads");
        validator.Validate(null, new RateLimitOptions { TokensPerIp = null! }).Failed.Should().BeTrue();
    }

    private static RateLimitOptions Options(BucketOptions sends) => new() { Sends = sends };
}
