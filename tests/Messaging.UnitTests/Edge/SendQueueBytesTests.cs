using Messaging.Contracts.Protocol;
using Messaging.Edge;
using Messaging.Edge.Sockets;
using Messaging.Hosting;
using Microsoft.Extensions.Options;

namespace Messaging.UnitTests.Edge;

/// <summary>The send queue is bounded in encoded bytes as well as frames (issue 8).</summary>
public sealed class SendQueueBytesTests
{
    private static SharedFrame FrameOf(int bodyChars) => SharedFrame.Encode(new ErrorFrame("e", "x", new string('b', bodyChars)));

    [Fact]
    public void Live_frames_are_refused_once_they_would_pass_the_byte_budget()
    {
        var frame = FrameOf(1000);
        var queue = new SendQueue(capacity: 1000, bulkCapacity: 10, maxBytes: (3 * frame.Length) + 10);

        queue.TryEnqueue(frame).Should().Be(EnqueueResult.Enqueued);
        queue.TryEnqueue(frame).Should().Be(EnqueueResult.Enqueued);
        queue.TryEnqueue(frame).Should().Be(EnqueueResult.Enqueued);
        queue.TryEnqueue(frame).Should().Be(EnqueueResult.Full);

        queue.QueuedBytes.Should().Be(3 * frame.Length);
        queue.PeakQueuedBytes.Should().Be(3 * frame.Length);
        frame.References.Should().Be(4, "a refused frame keeps no reference");
    }

    [Fact]
    public void A_shared_frame_counts_its_full_length_in_every_queue_that_holds_it()
    {
        var frame = FrameOf(500);
        var a = new SendQueue(10, 10);
        var b = new SendQueue(10, 10);
        a.TryEnqueue(frame);
        b.TryEnqueue(frame);
        a.QueuedBytes.Should().Be(frame.Length);
        b.QueuedBytes.Should().Be(frame.Length);
    }

    [Fact]
    public void Dequeuing_and_dropping_give_the_bytes_back()
    {
        var small = FrameOf(10);
        var queue = new SendQueue(10, 10, maxBytes: 10_000);
        queue.TryEnqueue(small);
        queue.TryEnqueue(small);
        queue.TryDequeue(out var taken).Should().BeTrue();
        taken.Release();
        queue.QueuedBytes.Should().Be(small.Length);
        queue.Complete();
        queue.DropPending();
        queue.QueuedBytes.Should().Be(0);
        queue.PeakQueuedBytes.Should().Be(2 * small.Length);
    }

    [Fact]
    public async Task Sync_frames_wait_while_the_queue_holds_more_than_the_sync_window_and_leave_the_rest_to_live_frames()
    {
        var frame = FrameOf(1000);
        var queue = new SendQueue(100, 100, maxBytes: 10L * frame.Length, bulkBytes: 2L * frame.Length);
        (await queue.EnqueueBulkAsync(frame, CancellationToken.None)).Should().BeTrue();
        (await queue.EnqueueBulkAsync(frame, CancellationToken.None)).Should().BeTrue();
        var waiting = queue.EnqueueBulkAsync(frame, CancellationToken.None).AsTask();
        waiting.IsCompleted.Should().BeFalse("the sync window is full");

        for (var i = 0; i < 8; i++)
        {
            queue.TryEnqueue(frame).Should().Be(EnqueueResult.Enqueued, "live frames use the rest of the budget");
        }

        queue.TryEnqueue(frame).Should().Be(EnqueueResult.Full);
        queue.PeakQueuedBytes.Should().Be(10L * frame.Length);

        // Live frames drain first; the waiting sync frame is admitted once the queue is under its window.
        for (var i = 0; i < 9; i++)
        {
            queue.TryDequeue(out var taken).Should().BeTrue();
            taken.Release();
        }

        (await waiting.WaitAsync(TimeSpan.FromSeconds(5))).Should().BeTrue();
        queue.PeakQueuedBytes.Should().Be(10L * frame.Length, "the budget was never passed");
    }

    [Fact]
    public async Task A_sync_frame_larger_than_the_window_still_goes_into_an_empty_queue()
    {
        var big = FrameOf(5000);
        var queue = new SendQueue(10, 10, maxBytes: 100_000, bulkBytes: 100);
        (await queue.EnqueueBulkAsync(big, CancellationToken.None)).Should().BeTrue();
        queue.QueuedBytes.Should().Be(big.Length);
    }

    [Fact]
    public async Task Completing_releases_a_sync_writer_waiting_for_bytes()
    {
        var frame = FrameOf(100);
        var queue = new SendQueue(10, 10, maxBytes: 10_000, bulkBytes: frame.Length);
        await queue.EnqueueBulkAsync(frame, CancellationToken.None);
        var waiting = queue.EnqueueBulkAsync(frame, CancellationToken.None).AsTask();
        queue.Complete();
        (await waiting.WaitAsync(TimeSpan.FromSeconds(5))).Should().BeFalse();
        queue.DropPending();
        frame.References.Should().Be(1);
    }

    [Fact]
    public void The_byte_budget_must_hold_a_worst_case_frame_and_the_sync_window_at_most_half()
    {
        var validator = new EdgeOptionsValidator(Options.Create(new ClusterOptions { EdgeNodes = 8 }));
        validator.Validate(null, new EdgeOptions()).Succeeded.Should().BeTrue();
        validator.Validate(null, new EdgeOptions { MaxQueuedBytesPerConnection = 256 * 1024 }).FailureMessage.Should().Contain("MaxQueuedBytesPerConnection");
        validator.Validate(null, new EdgeOptions { SyncQueueBytes = 600 * 1024 }).FailureMessage.Should().Contain("SyncQueueBytes");
    }
}
