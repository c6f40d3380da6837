using System.Threading.Channels;
using Messaging.Projections.Runtime;
using Messaging.ReadModels.Checkpoints;

namespace Messaging.Projections.Rebuild;

/// <summary>
/// The decode and write stages of a rebuild's replay. Pages are decoded on the thread pool as soon
/// as they are handed in; each writer takes its own pages in the order they were handed in and
/// writes one at a time (the next flush starts only when the previous one committed), so the
/// pages of one partition, which always go to the same writer (<see cref="Assign"/>), land in log
/// order, and the positions recorded with each page are durable. Each writer's queue holds at most
/// <c>DecodeAhead</c> pages: a full queue makes the caller (the fetch thread) wait, which bounds
/// the memory.
/// </summary>
internal sealed class PageWriters : IAsyncDisposable
{
    private readonly Dictionary<PartitionKey, int> _writerOf;
    private readonly Channel<Task<Page>>[] _queues;
    private readonly Task[] _loops;
    private readonly CancellationTokenSource _stop;
    private readonly CancellationToken _cancellationToken;

    /// <param name="partitions">The partitions to replay and their records left (an estimate is enough).</param>
    /// <param name="writers">Writer loops at most (each flushes on its own connection).</param>
    /// <param name="decodeAhead">Pages queued per writer, decoding in parallel, besides the one it writes.</param>
    /// <param name="flush">Writes one page; called by one writer at a time per writer, by several writers at once.</param>
    /// <param name="cancellationToken">Stops the writers after their page in flight.</param>
    public PageWriters(IReadOnlyList<(PartitionKey Partition, long Records)> partitions, int writers, int decodeAhead, Func<Page, CancellationToken, Task> flush, CancellationToken cancellationToken)
    {
        _writerOf = Assign(partitions, writers);
        writers = Math.Max(1, Math.Min(writers, partitions.Count));
        _cancellationToken = cancellationToken;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _queues = new Channel<Task<Page>>[writers];
        _loops = new Task[writers];
        for (var w = 0; w < writers; w++)
        {
            _queues[w] = Channel.CreateBounded<Task<Page>>(new BoundedChannelOptions(decodeAhead) { SingleReader = true, SingleWriter = true });
            var queue = _queues[w].Reader;
            _loops[w] = Task.Run(() => WriteAsync(queue, flush), CancellationToken.None);
        }
    }

    public int Count => _queues.Length;

    /// <summary>The writer of <paramref name="partition"/>'s pages (0 to <see cref="Count"/> - 1).</summary>
    public int WriterOf(PartitionKey partition) => _writerOf[partition];

    /// <summary>
    /// Which writer writes each partition: the partitions by records left to replay, largest first,
    /// each to the writer with the fewest so far (ties: the lower writer; a partition counts at
    /// least one record, so unknown sizes still spread), so that the writers finish together. Uses
    /// at most as many writers as there are partitions. Pure.
    /// </summary>
    public static Dictionary<PartitionKey, int> Assign(IReadOnlyList<(PartitionKey Partition, long Records)> partitions, int writers)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(writers, 1);
        var order = new List<(PartitionKey Partition, long Records)>(partitions);
        order.Sort(static (a, b) => a.Records != b.Records
            ? b.Records.CompareTo(a.Records)
            : (a.Partition.Topic, a.Partition.Partition).CompareTo((b.Partition.Topic, b.Partition.Partition)));
        var load = new long[Math.Max(1, Math.Min(writers, partitions.Count))];
        var result = new Dictionary<PartitionKey, int>(partitions.Count);
        foreach (var (partition, records) in order)
        {
            var least = 0;
            for (var w = 1; w < load.Length; w++)
            {
                if (load[w] < load[least])
                {
                    least = w;
                }
            }

            load[least] += Math.Max(1, records);
            result[partition] = least;
        }

        return result;
    }

    /// <summary>Starts decoding a page and queues it for <paramref name="writer"/>; waits while that writer's queue is full.</summary>
    public async ValueTask EnqueueAsync(int writer, Func<Page> plan)
    {
        var decode = Task.Run(plan, _stop.Token);
        try
        {
            await _queues[writer].Writer.WriteAsync(decode, _stop.Token);
        }
        catch (OperationCanceledException) when (!_cancellationToken.IsCancellationRequested)
        {
            // A writer failed and stopped the others: its exception is the one to report.
            await Task.WhenAll(_loops);
            throw;
        }
    }

    /// <summary>Writes every queued page and waits for all writers; throws the first writer's failure.</summary>
    public Task CompleteAsync()
    {
        foreach (var queue in _queues)
        {
            queue.Writer.TryComplete();
        }

        return Task.WhenAll(_loops);
    }

    public async ValueTask DisposeAsync()
    {
        // Never leave a page writing behind (cancelled or failed): the caller's next step
        // (finalize, swap) must not overlap it. Queued pages are dropped, the pages in flight
        // finish; a failure was already observed by the caller or is the one being thrown.
        foreach (var queue in _queues)
        {
            queue.Writer.TryComplete();
        }

        await _stop.CancelAsync();
        await Task.WhenAny(Task.WhenAll(_loops));
        _stop.Dispose();
    }

    private async Task WriteAsync(ChannelReader<Task<Page>> queue, Func<Page, CancellationToken, Task> flush)
    {
        try
        {
            while (await queue.WaitToReadAsync(_stop.Token))
            {
                while (!_stop.IsCancellationRequested && queue.TryRead(out var decode))
                {
                    // The caller's token, not _stop: a page once started is finished when another writer fails.
                    await flush(await decode, _cancellationToken);
                }
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            await _stop.CancelAsync();
            throw;
        }
    }
}
