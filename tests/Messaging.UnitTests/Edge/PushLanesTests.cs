using Messaging.Contracts;
using Messaging.Contracts.Protocol;
using Messaging.Edge;
using Messaging.Edge.RateLimits;
using Messaging.Edge.Sockets;
using Messaging.Edge.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Messaging.UnitTests.Edge;

/// <summary>The lanes that write the delivery thread's pushes: order per socket, the waypoint after them, references.</summary>
public sealed class PushLanesTests : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly EdgeMetrics _metrics;

    public PushLanesTests()
    {
        _metrics = new EdgeMetrics(_services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), new ConnectionRegistry());
    }

    [Fact]
    public async Task Pushes_to_each_socket_arrive_in_the_order_handed_over_across_lane_batches_and_every_lane_reference_is_released()
    {
        // Batches of 5: every lane gives its thread back and queues itself again many times.
        var lanes = Lanes(new EdgeOptions { PushLanes = 3, PushLaneBatch = 5 });
        var connections = Enumerable.Range(0, 7).Select(i => Connection("d" + i)).ToList();
        var frames = Enumerable.Range(0, 300).Select(i => SharedFrame.Encode(new PongFrame("p" + i))).ToList();

        foreach (var frame in frames)
        {
            foreach (var connection in connections)
            {
                lanes.Push(connection, frame);
            }
        }

        foreach (var connection in connections)
        {
            await Eventually.TrueAsync(() => connection.Queue.Count == frames.Count, Wait);
            var received = new List<SharedFrame>();
            while (connection.Queue.TryDequeue(out var queued))
            {
                received.Add(queued);
                queued.Release();
            }

            received.Should().Equal(frames);
        }

        frames.Should().OnlyContain(f => f.References == 1, "only the creator's reference is left once the queues gave theirs back");
        connections.ForEach(c => c.Dispose());
    }

    [Fact]
    public async Task A_waypoint_runs_once_after_every_push_handed_over_before_it_is_on_its_socket()
    {
        var lanes = Lanes(new EdgeOptions { PushLanes = 4 });
        var connections = Enumerable.Range(0, 9).Select(i => Connection("w" + i)).ToList();
        var frame = SharedFrame.Encode(new PongFrame("p"));
        for (var i = 0; i < 100; i++)
        {
            foreach (var connection in connections)
            {
                lanes.Push(connection, frame);
            }
        }

        var runs = 0;
        var queuedAtWaypoint = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        lanes.AfterPushed(() =>
        {
            Interlocked.Increment(ref runs);
            queuedAtWaypoint.TrySetResult(connections.Sum(c => c.Queue.Count));
        });

        (await queuedAtWaypoint.Task.WaitAsync(Wait)).Should().Be(900);
        runs.Should().Be(1);
        foreach (var connection in connections)
        {
            connection.Queue.DropPending();
            connection.Dispose();
        }
    }

    [Fact]
    public void Without_direct_socket_writes_a_push_is_queued_and_a_waypoint_runs_on_the_calling_thread()
    {
        var lanes = Lanes(new EdgeOptions { DirectSocketWrites = false });
        var connection = Connection("q");
        var frame = SharedFrame.Encode(new PongFrame("p"));

        lanes.Push(connection, frame);
        var ranOn = -1;
        lanes.AfterPushed(() => ranOn = Environment.CurrentManagedThreadId);

        connection.Queue.Count.Should().Be(1);
        ranOn.Should().Be(Environment.CurrentManagedThreadId);
        connection.Queue.DropPending();
        frame.References.Should().Be(1);
        connection.Dispose();
    }

    public void Dispose() => _services.Dispose();

    private static PushLanes Lanes(EdgeOptions options) => new(Options.Create(options), NullLogger<PushLanes>.Instance);

    private Connection Connection(string device) => new(new DeviceRef("ana", device), new EdgeOptions(), new RateLimitOptions(), _metrics, NullLogger.Instance);
}
