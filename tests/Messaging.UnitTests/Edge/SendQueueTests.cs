using Messaging.Contracts.Protocol;
using Messaging.Edge.Sockets;

namespace Messaging.UnitTests.Edge;

public sealed class SendQueueTests
{
    [Fact]
    public void A_full_live_queue_refuses_without_waiting_and_keeps_no_reference()
    {
        var queue = new SendQueue(capacity: 2, bulkCapacity: 2);
        var frame = SharedFrame.Encode(new PongFrame("p"));
        queue.TryEnqueue(frame).Should().Be(EnqueueResult.Enqueued);
        queue.TryEnqueue(frame).Should().Be(EnqueueResult.Enqueued);
        queue.TryEnqueue(frame).Should().Be(EnqueueResult.Full);
        frame.References.Should().Be(3, "the creator plus the two queued entries");
        queue.Count.Should().Be(2);
    }

    [Fact]
    public async Task Live_frames_go_out_before_bulk_frames()
    {
        var queue = new SendQueue(4, 4);
        var bulk = SharedFrame.Encode(new SyncDoneFrame("s", 0));
        var live = SharedFrame.Encode(new PongFrame("p"));
        (await queue.EnqueueBulkAsync(bulk, CancellationToken.None)).Should().BeTrue();
        queue.TryEnqueue(live);
        queue.TryDequeue(out var first).Should().BeTrue();
        first.Should().BeSameAs(live);
        queue.TryDequeue(out var second).Should().BeTrue();
        second.Should().BeSameAs(bulk);
    }

    [Fact]
    public async Task Bulk_writers_wait_for_room_instead_of_failing()
    {
        var queue = new SendQueue(4, 1);
        var frame = SharedFrame.Encode(new PongFrame("p"));
        (await queue.EnqueueBulkAsync(frame, CancellationToken.None)).Should().BeTrue();
        var waiting = queue.EnqueueBulkAsync(frame, CancellationToken.None).AsTask();
        waiting.IsCompleted.Should().BeFalse();
        queue.TryDequeue(out var taken).Should().BeTrue();
        taken.Release();
        (await waiting.WaitAsync(TimeSpan.FromSeconds(5))).Should().BeTrue();
    }

    [Fact]
    public async Task Completing_refuses_new_frames_releases_waiting_bulk_writers_and_drops_pending_ones()
    {
        var queue = new SendQueue(4, 1);
        var frame = SharedFrame.Encode(new PongFrame("p"));
        queue.TryEnqueue(frame);
        await queue.EnqueueBulkAsync(frame, CancellationToken.None);
        var blocked = queue.EnqueueBulkAsync(frame, CancellationToken.None).AsTask();

        queue.Complete();
        (await blocked.WaitAsync(TimeSpan.FromSeconds(5))).Should().BeFalse();
        queue.TryEnqueue(frame).Should().Be(EnqueueResult.Closed);
        queue.DropPending().Should().Be(2);
        frame.References.Should().Be(1, "only the creator's reference is left");
        (await queue.WaitToDequeueAsync(CancellationToken.None)).Should().BeFalse();
    }

    [Fact]
    public async Task The_sender_wakes_up_when_a_frame_arrives()
    {
        var queue = new SendQueue(4, 4);
        var wait = queue.WaitToDequeueAsync(CancellationToken.None).AsTask();
        wait.IsCompleted.Should().BeFalse();
        queue.TryEnqueue(SharedFrame.Encode(new PongFrame("p")));
        (await wait.WaitAsync(TimeSpan.FromSeconds(5))).Should().BeTrue();
    }

    [Fact]
    public void The_last_release_returns_the_buffer_and_an_extra_release_is_a_bug()
    {
        var frame = SharedFrame.Encode(new PongFrame("p"));
        frame.AddReference();
        frame.Release();
        frame.Release();
        frame.References.Should().Be(0);
        frame.Invoking(f => f.Release()).Should().Throw<InvalidOperationException>();
    }
}
