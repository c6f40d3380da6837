using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace Messaging.Bench.Connections;

/// <summary>
/// One thread that waits with Linux <c>epoll</c> (level-triggered) on every <see cref="PolledWebSocket"/>
/// it holds and lets each read what arrived. Why not the runtime's sockets: in groups of 1,024 a
/// generator reads ~20,000 frames/s over 10,240 sockets on the 2 cores it measures, and with
/// ClientWebSocket each frame took the runtime's socket engine, a thread-pool work item, three async
/// state machines and a second <c>recv</c> that found nothing; the generator used as much CPU as an
/// Edge node (fourteenth session's profile, docs/benchmarks.md). Here a frame costs one
/// <c>recv</c> on this thread, and one <c>epoll_wait</c> serves many sockets.
/// </summary>
public sealed partial class SocketPoller : IDisposable
{
    private const int EpollCloexec = 0x80000;
    private const int EpollCtlAdd = 1;
    private const int EpollCtlDel = 2;
    private const uint EpollIn = 0x001;
    private const uint EpollRdHup = 0x2000;
    private const int Eintr = 4;
    private const int EventsPerWait = 256;

    // A wait returns at least this often so that Dispose is noticed without a wake-up descriptor.
    private const int WaitMilliseconds = 100;

    private readonly int _epoll;
    private readonly Thread _thread;
    private readonly ConcurrentDictionary<long, PolledWebSocket> _sockets = new();
    private long _nextId;
    private volatile bool _stopping;

    public SocketPoller()
    {
        if (!IsSupported)
        {
            throw new PlatformNotSupportedException("The socket poller needs Linux on x64 (epoll_event's packed layout).");
        }

        _epoll = EpollCreate1(EpollCloexec);
        if (_epoll < 0)
        {
            throw new InvalidOperationException($"epoll_create1 failed: errno {Marshal.GetLastPInvokeError()}.");
        }

        _thread = new Thread(Run) { IsBackground = true, Name = "bench-poller" };
        _thread.Start();
    }

    /// <summary>epoll exists on Linux; the event layout below is x64's (packed, 12 bytes).</summary>
    public static bool IsSupported => OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64;

    /// <summary>Sockets being polled now.</summary>
    public int Count => _sockets.Count;

    internal long Add(PolledWebSocket socket)
    {
        var id = Interlocked.Increment(ref _nextId);
        _sockets[id] = socket;
        var change = new EpollEvent { Events = EpollIn | EpollRdHup, Data = (ulong)id };
        if (EpollCtl(_epoll, EpollCtlAdd, socket.Descriptor, ref change) != 0)
        {
            _sockets.TryRemove(id, out _);
            throw new InvalidOperationException($"epoll_ctl(ADD) failed: errno {Marshal.GetLastPInvokeError()}.");
        }

        return id;
    }

    /// <summary>Stops polling a socket; called before the socket is closed so its descriptor cannot be reused under the poller.</summary>
    internal void Remove(long id, int descriptor)
    {
        if (_sockets.TryRemove(id, out _))
        {
            var none = default(EpollEvent);
            _ = EpollCtl(_epoll, EpollCtlDel, descriptor, ref none);
        }
    }

    public void Dispose()
    {
        if (_stopping)
        {
            return;
        }

        _stopping = true;
        _thread.Join();
        _ = Close(_epoll);
    }

    private void Run()
    {
        var events = GC.AllocateArray<EpollEvent>(EventsPerWait, pinned: true);
        while (!_stopping)
        {
            int ready;
            unsafe
            {
                fixed (EpollEvent* first = events)
                {
                    ready = EpollWait(_epoll, first, events.Length, WaitMilliseconds);
                }
            }

            if (ready < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == Eintr)
                {
                    continue;
                }

                throw new InvalidOperationException($"epoll_wait failed: errno {errno}.");
            }

            for (var i = 0; i < ready; i++)
            {
                if (_sockets.TryGetValue((long)events[i].Data, out var socket))
                {
                    socket.OnReadable();
                }
            }
        }
    }

    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    private struct EpollEvent
    {
        public uint Events;
        public ulong Data;
    }

    [LibraryImport("libc", EntryPoint = "epoll_create1", SetLastError = true)]
    private static partial int EpollCreate1(int flags);

    [LibraryImport("libc", EntryPoint = "epoll_ctl", SetLastError = true)]
    private static partial int EpollCtl(int epoll, int operation, int descriptor, ref EpollEvent change);

    [LibraryImport("libc", EntryPoint = "epoll_wait", SetLastError = true)]
    private static unsafe partial int EpollWait(int epoll, EpollEvent* events, int maxEvents, int timeoutMilliseconds);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int descriptor);
}
