using Confluent.Kafka;
using Messaging.Contracts.Delivery;
using Messaging.Contracts.Topics;
using Messaging.Edge.Commands;
using Messaging.Edge.Presence;
using Messaging.Edge.Telemetry;
using Messaging.Hosting;
using Messaging.ReadModels.Chats;
using Microsoft.Extensions.Options;

namespace Messaging.Edge.Conversation;

/// <summary>
/// Gathers the acks and reads of this node's devices and sends them as receipts every
/// <c>Conversation:ReceiptFlushMs</c>: per user (the highest seq of any of their devices here),
/// per chat and state one <c>ReceiptsRouted</c> per Edge node for the online devices of every
/// sender in the chat's span, after one query per chat (not per user). Why on Edge and not in a Router loop: docs/router.md, "Receipts and typing".
/// </summary>
internal sealed partial class ReceiptAggregator(
    ConversationQueries queries,
    PresenceDirectory presence,
    UserSettingsDirectory settings,
    AckProducer producer,
    TopicNames topics,
    IOptions<ConversationOptions> options,
    IOptions<ClusterOptions> cluster,
    TimeProvider clock,
    EdgeMetrics metrics,
    ILogger<ReceiptAggregator> logger)
{
    private readonly object _gate = new();
    private readonly ConversationOptions _options = options.Value;
    private readonly int _edgeNodes = cluster.Value.EdgeNodes;
    private readonly Dictionary<(string ChatId, string UserId, string State), PendingReceipt> _pending = [];
    private readonly Dictionary<(string ChatId, string UserId, string State), long> _sent = [];

    // A flush's work lists, reused: new ones each flush were ~4 % of an Edge node's allocated
    // bytes in groups of 1,024 (nineteenth session's allocation trace). One flush at a time
    // (ReceiptFlusher's loop), which _flushing enforces.
    private readonly List<PendingReceipt> _work = [];
    private readonly List<ReceiptRange> _ranges = [];
    private int _flushing;

    /// <summary>Notes that <paramref name="userId"/> reached <paramref name="seq"/> in the chat (cumulative; the highest wins).</summary>
    public void Note(string chatId, string userId, string state, long seq, DateTimeOffset at)
    {
        var key = (chatId, userId, state);
        lock (_gate)
        {
            if (!_pending.TryGetValue(key, out var known) || seq > known.Seq)
            {
                _pending[key] = new PendingReceipt(chatId, userId, state, seq, at);
            }
        }
    }

    /// <summary>Sends what was gathered since the last flush; returns the records written.</summary>
    public async Task<int> FlushAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _flushing, 1) != 0)
        {
            throw new InvalidOperationException("one receipts flush at a time");
        }

        try
        {
            return await FlushOnceAsync(cancellationToken);
        }
        finally
        {
            Volatile.Write(ref _flushing, 0);
        }
    }

    private async Task<int> FlushOnceAsync(CancellationToken cancellationToken)
    {
        var work = _work;
        var ranges = _ranges;
        work.Clear();
        ranges.Clear();
        lock (_gate)
        {
            if (_pending.Count == 0)
            {
                return 0;
            }

            foreach (var p in _pending.Values)
            {
                long? last = _sent.TryGetValue((p.ChatId, p.UserId, p.State), out var sent) ? sent : null;
                if (ReceiptPlanner.Range(p, last, _options.ReceiptMaxRangeSeqs) is { } range)
                {
                    work.Add(p);
                    ranges.Add(range);
                }
            }

            // Cleared, not replaced: a new dictionary grew again through every size each flush
            // (14 % of an Edge node's allocated bytes in groups of 1,024, nineteenth session's trace).
            _pending.Clear();
        }

        if (work.Count == 0)
        {
            return 0;
        }

        var spanOf = new int[ranges.Count];
        var spans = ReceiptPlanner.Spans(ranges, spanOf);
        ReceiptTargets[] targets;
        try
        {
            targets = await queries.TargetsAsync(spans, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogFlushFailed(logger, ex, work.Count);
            Requeue(work);
            return 0;
        }

        var plan = ReceiptPlanner.Plan(work, ranges, spanOf, targets, settings.ReadReceipts, _options.ReceiptRetries);
        if (!await PresenceCaughtUpAsync(plan, cancellationToken))
        {
            // Nothing is marked sent yet: the whole flush goes again at the next one.
            Requeue(ReceiptPlanner.Postponed(work, _options.ReceiptRetries));
            return 0;
        }

        lock (_gate)
        {
            if (_sent.Count + plan.Sent.Count > _options.ReceiptTrackedPositions)
            {
                // Bounded memory: forgetting only widens the next ranges (ReceiptMaxRangeSeqs back).
                _sent.Clear();
            }

            foreach (var (key, seq) in plan.Sent)
            {
                if (!_sent.TryGetValue(key, out var known) || seq > known)
                {
                    _sent[key] = seq;
                }
            }
        }

        Requeue(plan.Retry);
        return await RouteAsync(plan, cancellationToken);
    }

    private async Task<int> RouteAsync(ReceiptPlan plan, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var byNode = NodeRouting.Buckets(_edgeNodes);
        var produces = new List<Task>();
        foreach (var ((chatId, state), push) in plan.Pushes)
        {
            foreach (var list in byNode)
            {
                list.Clear();
            }

            foreach (var sender in push.Senders)
            {
                presence.AddOnlineDevices(sender, now, byNode);
            }

            // The lists are reused for the next chat: each record keeps a copy.
            var receipts = push.Receipts;
            NodeRouting.Produce(producer.Producer, topics, chatId, byNode, devices => new ReceiptsRouted { Devices = [.. devices], ChatId = chatId, State = state, Receipts = receipts }, produces, cancellationToken);
        }

        try
        {
            await Task.WhenAll(produces);
        }
        catch (Exception ex) when (EdgeProducer.IsUnavailable(ex))
        {
            // Receipts are a courtesy over what history counts anyway: a lost push is not retried.
            LogFlushFailed(logger, ex, produces.Count);
        }

        metrics.ReceiptRecords(produces.Count);
        return produces.Count;
    }

    /// <summary>
    /// Read-your-writes of presence, as the Router has for its directory: a sender who connected
    /// to another node a moment ago may not be in this node's table yet, and a receipt routed to
    /// no device is marked sent and never sent again. So when a push names a sender this node sees
    /// offline, the table first catches up; false when it could not (within
    /// <c>Conversation:PresenceCatchUpMs</c>, or the broker did not answer), and then nothing is
    /// routed by it. Routing by what the table held lost every receipt of a chat in loaded full
    /// test runs: <c>ReceiptsTests</c> saw no receipt record from either node (CI, 2026-11-26,
    /// twice), whose readers ack within about a second of the sender's connect.
    /// </summary>
    private async Task<bool> PresenceCaughtUpAsync(ReceiptPlan plan, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        if (!ReceiptPlanner.AnySenderOffline(plan, sender => presence.AnyOnline(sender, now)))
        {
            return true;
        }

        try
        {
            return await presence.CatchUpAsync(TimeSpan.FromMilliseconds(_options.PresenceCatchUpMs), cancellationToken);
        }
        catch (Exception ex) when (ex is KafkaException or TimeoutException)
        {
            // The watermark query timed out (a loaded broker). Thrown on, it ended the flush loop
            // and this node sent no receipt again.
            LogPresenceCatchUpFailed(logger, ex);
            return false;
        }
    }

    private void Requeue(List<PendingReceipt> receipts)
    {
        lock (_gate)
        {
            foreach (var p in receipts)
            {
                var key = (p.ChatId, p.UserId, p.State);
                if (!_pending.TryGetValue(key, out var known) || p.Seq > known.Seq)
                {
                    _pending[key] = p;
                }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Receipts flush failed ({Count} receipts or records); they are retried or dropped")]
    private static partial void LogFlushFailed(ILogger logger, Exception exception, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Receipts: could not catch the presence table up before routing; the flush goes again at the next one")]
    private static partial void LogPresenceCatchUpFailed(ILogger logger, Exception exception);
}

/// <summary>Flushes the <see cref="ReceiptAggregator"/> every <c>Conversation:ReceiptFlushMs</c>.</summary>
internal sealed partial class ReceiptFlusher(ReceiptAggregator receipts, IOptions<ConversationOptions> options, ILogger<ReceiptFlusher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(options.Value.ReceiptFlushMs));
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await receipts.FlushAsync(stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // One failed flush must not end the loop: a dead loop sends no receipt again
                    // for the node's life (node 0 of a ReceiptsTests CI run sent none, 2026-11-26).
                    LogFlushLoopFailed(logger, ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Receipts flush threw; the next flush goes on")]
    private static partial void LogFlushLoopFailed(ILogger logger, Exception exception);
}
