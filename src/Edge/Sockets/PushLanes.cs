using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Messaging.Edge.Sockets;

/// <summary>
/// Hands the delivery thread's pushes to a few lanes that write them on the thread pool, each
/// socket always on the same lane, so a socket gets its pushes in the order they were handed
/// over. With pushes written straight to the socket (<c>Edge:DirectSocketWrites</c>), the delivery
/// thread alone wrote every copy: Edge CPU fell by a quarter in groups of 1,024, but the one thread
/// could not keep up on a busy machine and fell seconds behind its topic (decided→pushed p99 4.5 and
/// 11.5 s against 2.6 and 4.7 s through the send loops; docs/benchmarks.md, thirteenth session).
/// A lane runs as one thread-pool work item while it has pushes, not one per copy.
/// </summary>
internal sealed class PushLanes
{
    private readonly Lane[] _lanes;
    private readonly bool _enabled;

    public PushLanes(IOptions<EdgeOptions> options, ILogger<PushLanes> logger)
    {
        var count = options.Value.PushLanes > 0 ? options.Value.PushLanes : Environment.ProcessorCount;
        _lanes = new Lane[count];
        for (var i = 0; i < count; i++)
        {
            _lanes[i] = new Lane(options.Value.PushLaneBatch, logger);
        }

        // Through the send loops a push is only an enqueue: lanes would add a hop and save nothing.
        _enabled = options.Value.DirectSocketWrites;
    }

    public int Count => _lanes.Length;

    /// <summary>Pushes <paramref name="frame"/> to <paramref name="connection"/> on the connection's lane (taking its own reference).</summary>
    public void Push(Connection connection, SharedFrame frame)
    {
        if (!_enabled)
        {
            connection.TryPush(frame);
            return;
        }

        frame.AddReference();
        _lanes[connection.PushLane % _lanes.Length].Enqueue(new Entry(connection, frame, null));
    }

    /// <summary>
    /// Runs <paramref name="action"/> once every push handed over before has been written or
    /// queued on its socket: what the delivery thread did in order before lanes, such as completing
    /// a device command's reply after the frames the Router sent ahead of it.
    /// </summary>
    public void AfterPushed(Action action)
    {
        if (!_enabled)
        {
            action();
            return;
        }

        var waypoint = new Waypoint(_lanes.Length, action);
        foreach (var lane in _lanes)
        {
            lane.Enqueue(new Entry(null, null, waypoint));
        }
    }

    private readonly record struct Entry(Connection? Connection, SharedFrame? Frame, Waypoint? Waypoint);

    /// <summary>Counts the lanes that reached it; the last one runs the action.</summary>
    private sealed class Waypoint(int lanes, Action action)
    {
        private int _left = lanes;

        public void Reached()
        {
            if (Interlocked.Decrement(ref _left) == 0)
            {
                action();
            }
        }
    }

    private sealed class Lane(int batch, ILogger logger) : IThreadPoolWorkItem
    {
        private readonly ConcurrentQueue<Entry> _queue = new();
        private int _scheduled;

        public void Enqueue(Entry entry)
        {
            _queue.Enqueue(entry);
            if (Interlocked.CompareExchange(ref _scheduled, 1, 0) == 0)
            {
                ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
            }
        }

        public void Execute()
        {
            while (true)
            {
                for (var run = 0; run < batch; run++)
                {
                    if (!_queue.TryDequeue(out var entry))
                    {
                        break;
                    }

                    Run(entry);
                }

                if (!_queue.IsEmpty)
                {
                    // Give the thread back after a batch, still scheduled: a lane that drained
                    // everything at once held one of the pool's few threads while sockets' reads
                    // (sends, acks) waited behind it (sent→accepted p99 142–179 ms against 47–61 at
                    // 4,000 sends/s, docs/benchmarks.md, thirteenth session).
                    ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
                    return;
                }

                Volatile.Write(ref _scheduled, 0);

                // An entry enqueued after the last TryDequeue and before the reset found the lane
                // scheduled and did not schedule it: take it on here.
                if (_queue.IsEmpty || Interlocked.CompareExchange(ref _scheduled, 1, 0) != 0)
                {
                    return;
                }
            }
        }

        private void Run(Entry entry)
        {
            try
            {
                if (entry.Waypoint is { } waypoint)
                {
                    waypoint.Reached();
                }
                else
                {
                    entry.Connection!.TryPush(entry.Frame!);
                }
            }
            catch (Exception ex)
            {
                // A thread-pool work item that throws ends the process; one push must not.
                EdgeLog.PushFailed(logger, ex);
            }
            finally
            {
                entry.Frame?.Release();
            }
        }
    }
}
