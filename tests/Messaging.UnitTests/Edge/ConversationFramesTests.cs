using Messaging.Contracts;
using Messaging.Contracts.Delivery;
using Messaging.Contracts.Events;
using Messaging.Contracts.Protocol;
using Messaging.Edge.Delivery;
using Messaging.Edge.RateLimits;
using Messaging.Edge.Sockets;

namespace Messaging.UnitTests.Edge;

/// <summary>The frames of receipts and typing: validation, rate-limit buckets and what a node pushes.</summary>
public sealed class ConversationFramesTests
{
    private static readonly DateTimeOffset At = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly FrameLimits Limits = new(65536, 128, 200, 1 << 20);

    [Theory]
    [InlineData("""{"type":"read","chatId":"c1","seq":4}""", null)]
    [InlineData("""{"type":"read","chatId":"c1","seq":0}""", ErrorCodes.BadFrame)]
    [InlineData("""{"type":"read","chatId":"c 1","seq":4}""", ErrorCodes.BadFrame)]
    [InlineData("""{"type":"typing","chatId":"c1","state":"started"}""", null)]
    [InlineData("""{"type":"typing","chatId":"c1","state":"stopped"}""", null)]
    [InlineData("""{"type":"typing","chatId":"c1","state":"paused"}""", ErrorCodes.BadFrame)]
    [InlineData("""{"type":"typing","chatId":"c1"}""", ErrorCodes.BadFrame)]
    [InlineData("""{"type":"settings.set","id":"r1","readReceipts":false}""", null)]
    public void Read_typing_and_settings_frames_are_checked(string json, string? error)
    {
        var check = FrameValidator.Validate(System.Text.Encoding.UTF8.GetBytes(json), "ana", Limits);

        check.ErrorCode.Should().Be(error, check.ErrorMessage);
    }

    [Fact]
    public void Typing_is_refused_with_retry_after_once_its_bucket_is_empty()
    {
        using var limiter = new FrameRateLimiter(new RateLimitOptions { Typing = new BucketOptions { Burst = 2, PerSecond = 0.01 } });
        var typing = new TypingFrame { ChatId = "c", State = ConversationStates.Started };

        limiter.TryAcquire(typing, out _).Should().BeTrue();
        limiter.TryAcquire(typing, out _).Should().BeTrue();
        limiter.TryAcquire(typing, out var retryAfter).Should().BeFalse();
        retryAfter.Should().BePositive();
        limiter.TryAcquire(new ReadFrame { ChatId = "c", Seq = 1 }, out _).Should().BeTrue("reads spend another bucket");
    }

    [Fact]
    public void Routed_receipts_typing_and_read_markers_become_their_frames()
    {
        UserReceipt[] receipts = [new("bo", 4, At)];
        DeliveryFrames.ToFrame(new ReceiptsRouted { Devices = ["ana/phone"], ChatId = "c", State = ConversationStates.Read, Receipts = receipts })
            .Should().BeEquivalentTo(new ReceiptFrame { ChatId = "c", State = ConversationStates.Read, Receipts = receipts });
        DeliveryFrames.ToFrame(new TypingRouted { Devices = ["bo/phone"], ChatId = "c", UserId = "ana", State = ConversationStates.Started, ExpiresInMs = 5000 })
            .Should().BeEquivalentTo(new TypingPushFrame { ChatId = "c", UserId = "ana", State = ConversationStates.Started, ExpiresInMs = 5000 });
        DeliveryFrames.ToFrame(new EventRouted { Devices = ["bo/tablet"], Event = new MessagesRead { ChatId = "c", Seq = 4, Actor = new DeviceRef("bo", "phone"), OccurredAt = At } })
            .Should().BeEquivalentTo(new ReadMarkerFrame { ChatId = "c", Seq = 4, At = At });
    }
}
