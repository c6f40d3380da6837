using Messaging.Edge.Sockets;

namespace Messaging.Edge.EventStream;

/// <summary>
/// A device's session over the HTTP fallback: the same <see cref="Connection"/> (queue, limits,
/// registry entry) as a socket's, drained by whichever event stream is attached. Each frame
/// written gets the event id <c>{sessionId}.{n}</c> and stays in a small replay ring, so a
/// stream that dropped after writing frames the client never got resumes (<c>Last-Event-ID</c>)
/// with exactly those. Detached, the session waits <c>EventStream:ResumeSeconds</c> for a
/// stream to come back, then ends like a closed socket.
/// </summary>
internal sealed class EventStreamSession : IDisposable
{
    private readonly object _gate = new();
    private readonly Queue<(long Id, SharedFrame Frame)> _replay = new();
    private readonly int _replayFrames;
    private readonly int _replayBytes;
    private readonly SemaphoreSlim _pump = new(1, 1);
    private readonly CancellationTokenSource _lifetime = new();
    private readonly ITimer _resumeTimer;
    private readonly TimeSpan _resumeWindow;
    private CancellationTokenSource? _stream;
    private int _replayedBytes;
    private long _lastId;
    private int _ended;

    public EventStreamSession(Connection connection, EventStreamOptions options, TimeProvider clock, Action<EventStreamSession> expired)
    {
        Connection = connection;
        _replayFrames = options.ReplayFrames;
        _replayBytes = options.ReplayBytes;
        _resumeWindow = options.Resume;
        _resumeTimer = clock.CreateTimer(static state => ((Action)state!)(), (Action)(() => expired(this)), Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    public Connection Connection { get; }

    public string SessionId => Connection.SessionId;

    /// <summary>Cancelled when the session ends: requests posted to it stop with it.</summary>
    public CancellationToken Lifetime => _lifetime.Token;

    public bool IsEnded => Volatile.Read(ref _ended) != 0;

    /// <summary>
    /// Makes a new stream the session's only reader: a stream still attached (its peer not yet
    /// known to be gone) is told to stop, and this waits until it has. Dispose the result to detach.
    /// </summary>
    public async Task<Attachment> AttachAsync(CancellationToken aborted)
    {
        var mine = CancellationTokenSource.CreateLinkedTokenSource(aborted, _lifetime.Token);
        lock (_gate)
        {
            _stream?.Cancel();
            _stream = mine;
            _resumeTimer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }

        try
        {
            await _pump.WaitAsync(aborted);
        }
        catch (OperationCanceledException)
        {
            Detached(mine);
            mine.Dispose();
            throw;
        }

        return new Attachment(this, mine);
    }

    /// <summary>Frames written after <paramref name="afterId"/>, oldest first; false when the ring no longer holds all of them.</summary>
    public bool TryReplay(long afterId, List<(long Id, SharedFrame Frame)> frames)
    {
        lock (_gate)
        {
            if (afterId > _lastId)
            {
                return false;
            }

            if (afterId < _lastId && (_replay.Count == 0 || _replay.Peek().Id > afterId + 1))
            {
                return false;
            }

            foreach (var entry in _replay)
            {
                if (entry.Id > afterId)
                {
                    entry.Frame.AddReference();
                    frames.Add(entry);
                }
            }

            return true;
        }
    }

    /// <summary>Numbers a frame about to be written and keeps it for a resume; returns its id.</summary>
    public long Record(SharedFrame frame)
    {
        lock (_gate)
        {
            var id = ++_lastId;
            if (_replayFrames == 0 || frame.Length > _replayBytes)
            {
                // Not kept: a resume from before it cannot be exact, and starts a new session.
                Evict(int.MaxValue);
                return id;
            }

            frame.AddReference();
            _replay.Enqueue((id, frame));
            _replayedBytes += frame.Length;
            Evict(_replayFrames);
            return id;
        }
    }

    private void Evict(int keepFrames)
    {
        while (_replay.Count > 0 && (_replay.Count > keepFrames || _replayedBytes > _replayBytes))
        {
            var (_, old) = _replay.Dequeue();
            _replayedBytes -= old.Length;
            old.Release();
        }
    }

    /// <summary>True once: the caller ends the session (offline record, resources).</summary>
    public bool TryEnd()
    {
        if (Interlocked.Exchange(ref _ended, 1) != 0)
        {
            return false;
        }

        _lifetime.Cancel();
        _resumeTimer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        return true;
    }

    public void Dispose()
    {
        _resumeTimer.Dispose();
        lock (_gate)
        {
            Evict(0);
        }

        _lifetime.Dispose();
    }

    private void Detach(CancellationTokenSource mine)
    {
        Detached(mine);
        _pump.Release();
        mine.Dispose();
    }

    /// <summary>If <paramref name="mine"/> is still the session's stream, none is now: the resume window starts.</summary>
    private void Detached(CancellationTokenSource mine)
    {
        lock (_gate)
        {
            if (ReferenceEquals(_stream, mine))
            {
                _stream = null;
                if (!IsEnded)
                {
                    _resumeTimer.Change(_resumeWindow, Timeout.InfiniteTimeSpan);
                }
            }
        }
    }

    /// <summary>One attached stream: its token is cancelled when its peer goes, a newer stream takes over, or the session ends.</summary>
    internal sealed class Attachment(EventStreamSession session, CancellationTokenSource token) : IDisposable
    {
        public CancellationToken Token { get; } = token.Token;

        public void Dispose() => session.Detach(token);
    }
}
