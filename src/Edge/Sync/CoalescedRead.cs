namespace Messaging.Edge.Sync;

/// <summary>
/// One read shared by every caller waiting for it, each answer read after the caller asked:
/// callers that ask while a read is in flight are answered together by the next read, which
/// starts when that one ends. So a caller never gets a value older than its request (what causal
/// sync needs: watermarks and checkpoints read after the sync began), and N concurrent callers
/// cost one read per round instead of N. 1,000 devices reconnecting at once each polled the
/// checkpoints every 20 ms and asked Kafka for the watermarks on their own: Edge's 40 pooled
/// connections ran out ("connection pool has been exhausted") and watermark queries timed out,
/// so syncs streamed partial inboxes and were retried (offline-catchup bench, docs/benchmarks.md).
/// </summary>
/// <remarks>A failed read fails exactly the callers of its round; the next round tries again.</remarks>
internal sealed class CoalescedRead<T>(Func<CancellationToken, Task<T>> read)
{
    private readonly Lock _gate = new();
    private TaskCompletionSource<T>? _next;
    private bool _running;

    /// <summary>A value read after this call; the caller bounds its own wait (<see cref="Task.WaitAsync(TimeSpan)"/>).</summary>
    public Task<T> NextAsync()
    {
        lock (_gate)
        {
            _next ??= new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
            var task = _next.Task;
            if (!_running)
            {
                _running = true;
                _ = Task.Run(RunAsync);
            }

            return task;
        }
    }

    private async Task RunAsync()
    {
        while (true)
        {
            TaskCompletionSource<T> round;
            lock (_gate)
            {
                if (_next is null)
                {
                    _running = false;
                    return;
                }

                round = _next;
                _next = null;
            }

            try
            {
                // Not cancellable by any one caller: others share the round.
                round.SetResult(await read(CancellationToken.None));
            }
            catch (Exception ex)
            {
                round.SetException(ex);
            }
        }
    }
}
