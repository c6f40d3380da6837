using System.Diagnostics;
using Confluent.Kafka;
using JasperFx.Events.Projections;
using Marten;
using Messaging.Bench.Components;
using Messaging.Bench.Results;
using Npgsql;
using Spectre.Console;

namespace Messaging.Bench.Marten;

/// <summary>
/// The Marten side of the read-side evaluation (issue 10, docs/decisions/read-side.md): the same
/// pre-filled <c>chat.events</c> as <c>projections</c>, copied into Marten chat streams with the
/// chat projection (live phase), then the chat projection rebuilt by Marten's daemon from the
/// event store (rebuild phase). In-process: the bench is the worker.
/// </summary>
public sealed class MartenBench(ComponentOptions options, EventBacklogPlan plan, MartenChatSettings settings, int pageSize, bool prefill, bool keepSchema, bool rebuild, IAnsiConsole console)
{
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var startedAt = DateTimeOffset.UtcNow;
        var target = KafkaTarget.Create(options.BootstrapServers, options.KafkaProfile, options.TopicPrefix);
        var log = ResultLog.ForRun(options.ResultsDirectory, "marten", startedAt);
        var knobs = Knobs();
        console.MarkupLineInterpolated($"[bold]marten[/]: {plan.Events:N0} events over {plan.Chats:N0} chats of {plan.Members}; {string.Join(", ", knobs)}; prefix [blue]{target.Topics.Prefix}[/], schema [blue]{settings.Schema}[/], results to [blue]{log.Path}[/]");
        await using var database = NpgsqlDataSource.Create(settings.ConnectionString);
        try
        {
            var prefillClock = Stopwatch.StartNew();
            if (prefill)
            {
                await target.EnsureTopicsAsync(edgeNodes: 1, cancellationToken);
                var unused = new ProjectionsBenchSettings(settings.ConnectionString, settings.Schema, keepSchema, "chat", "none");
                new ProjectionsBench(options, plan, unused, console).Prefill(target, cancellationToken);
            }

            prefillClock.Stop();
            var partitions = target.Partitions(target.Topics.ChatEvents);
            Dictionary<TopicPartition, long> ends;
            long events;
            using (var probe = new OffsetProbe(target.CreateProbe("bench-probe")))
            {
                ends = probe.Ends(partitions);
                events = probe.Count(partitions);
            }

            var common = new ComponentResult
            {
                RunId = Path.GetFileNameWithoutExtension(log.Path),
                At = startedAt,
                Component = "marten",
                Phase = "live",
                TopicPrefix = target.Topics.Prefix,
                Schema = settings.Schema,
                Service = "in-process (Marten 9.58.0)",
                Settings = knobs,
                Chats = plan.Chats,
                GroupSize = plan.Members,
                BodyBytes = plan.BodyBytes,
                PrefillRecords = events,
                PrefillSeconds = Math.Round(prefillClock.Elapsed.TotalSeconds, 2),
                StartupSeconds = 0,
                Seconds = 0,
                Events = events,
                ServiceCpuPercent = 0,
                ServiceRssMiB = 0,
                ServicePeakRssMiB = 0,
                Processes = [],
                GeneratorCpuPercent = 0,
                Machine = MachineInfo.Current(),
            };

            using var store = MartenChatStore.Create(settings);
            var live = await LiveAsync(store, database, target, ends, common, cancellationToken);
            await log.AppendAsync(live, cancellationToken);
            if (live.Note is not null)
            {
                return 1;
            }

            if (!rebuild || settings.ChatLifecycle is null)
            {
                return 0;
            }

            var rebuilt = await RebuildAsync(store, database, common, cancellationToken);
            await log.AppendAsync(rebuilt, cancellationToken);
            return rebuilt.Note is null ? 0 : 1;
        }
        finally
        {
            if (keepSchema)
            {
                console.MarkupLineInterpolated($"kept schema [blue]{settings.Schema}[/]");
            }
            else
            {
                await using var drop = database.CreateCommand($"drop schema if exists {settings.Schema} cascade");
                await drop.ExecuteNonQueryAsync(CancellationToken.None);
                console.MarkupLineInterpolated($"dropped schema {settings.Schema}");
            }
        }
    }

    private List<string> Knobs() =>
    [
        "append=" + settings.AppendMode,
        "chat=" + (settings.ChatLifecycle?.ToString() ?? "none") + "/" + settings.Chat,
        "history=" + settings.History,
        "page=" + pageSize,
        "daemonBatch=" + settings.DaemonBatchSize,
        "bulkCopy=" + settings.RebuildWithBulkCopy,
        "identityMap=" + settings.UseIdentityMapForAggregates,
    ];

    private async Task<ComponentResult> LiveAsync(DocumentStore store, NpgsqlDataSource database, KafkaTarget target, Dictionary<TopicPartition, long> ends, ComponentResult common, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        await store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
        var schemaSeconds = clock.Elapsed.TotalSeconds;
        var usage = new UsageWindow(Environment.ProcessId, "bench");
        TimeSpan? firstAt = null;
        long firstCount = 0;

        // The creates come first in the log: from the first page past them on, only messages are
        // measured, so groups of 1,024 (a 1,024-member ChatCreated each) compare with groups of 10.
        TimeSpan? messagesAt = null;
        long messagesFrom = 0;
        var nextProgress = options.ProgressInterval;
        var ingest = new MartenChatIngest(store, database, settings.Schema);
        var copy = new MartenChatCopy(ingest, target.Clients, pageSize)
        {
            Committed = applied =>
            {
                var now = clock.Elapsed;
                if (firstAt is null)
                {
                    firstAt = now;
                    firstCount = applied;
                    usage.Start();
                }

                if (messagesAt is null && applied >= plan.Chats)
                {
                    messagesAt = now;
                    messagesFrom = applied;
                }

                usage.Observe();
                if (now >= nextProgress)
                {
                    console.MarkupLineInterpolated($"  {now.TotalSeconds,6:0.0} s: {applied:N0}/{common.Events:N0} ({(applied - firstCount) / Math.Max((now - firstAt.Value).TotalSeconds, 0.001):N0}/s)");
                    nextProgress = now + options.ProgressInterval;
                }
            },
        };

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Timeout);
        using var daemon = settings.ChatLifecycle == ProjectionLifecycle.Async ? await store.BuildProjectionDaemonAsync() : null;
        if (daemon is not null)
        {
            await daemon.StartAllAsync();
        }

        var outcome = await copy.CopyAsync(ends, timeout.Token);
        if (daemon is not null)
        {
            // Async: live is done when the daemon has projected everything the ingest appended.
            await daemon.WaitForNonStaleData(options.Timeout);
            await daemon.StopAllAsync();
        }

        var doneAt = clock.Elapsed;
        var used = usage.Finish();
        var first = firstAt ?? doneAt;
        var seconds = (doneAt - first).TotalSeconds;
        var measured = common.Events!.Value - firstCount;
        var check = await CheckAsync(database, common.Events!.Value, cancellationToken);
        var messagesSeconds = (doneAt - (messagesAt ?? doneAt)).TotalSeconds;
        var messages = new ProjectionRate("messages", Math.Round(messagesSeconds, 3), common.Events!.Value - messagesFrom, Rates.PerSecond(common.Events!.Value - messagesFrom, messagesSeconds));
        var result = common with
        {
            Phase = "live",
            Projections = [messages],
            StartupSeconds = Math.Round(first.TotalSeconds, 2),
            Seconds = Math.Round(seconds, 3),
            EventsPerSecond = Rates.PerSecond(measured, seconds),
            ServiceCpuPercent = used.CpuPercent,
            ServiceRssMiB = used.RssMiB,
            ServicePeakRssMiB = used.PeakRssMiB,
            Processes = used.Infrastructure,
            GeneratorCpuPercent = used.GeneratorCpuPercent,
            Note = check,
        };
        console.MarkupLineInterpolated($"[bold]live[/]: {measured:N0} events in {seconds:0.00} s = [green]{result.EventsPerSecond:N0} events/s[/] (after the creates: {messages.Events:N0} in {messagesSeconds:0.00} s = {messages.EventsPerSecond:N0}/s; appended {outcome.Appended:N0}, duplicates {outcome.Duplicates:N0}, undecodable {outcome.Undecodable:N0}); schema {schemaSeconds:0.0} s, first page after {first.TotalSeconds:0.0} s; bench CPU {used.CpuPercent:0} %, peak RSS {used.PeakRssMiB:0} MiB");
        if (check is not null)
        {
            console.MarkupLineInterpolated($"  [red]{check}[/]");
        }

        return result;
    }

    private async Task<ComponentResult> RebuildAsync(DocumentStore store, NpgsqlDataSource database, ComponentResult common, CancellationToken cancellationToken)
    {
        console.MarkupLine("rebuild: Marten daemon, chat projection from the event store");
        var usage = new UsageWindow(Environment.ProcessId, "bench");
        usage.Start();
        var clock = Stopwatch.StartNew();
        using (var daemon = await store.BuildProjectionDaemonAsync())
        {
            var rebuilding = daemon.RebuildProjectionAsync(MartenChatStore.ProjectionName(settings), options.Timeout, cancellationToken);
            while (!rebuilding.IsCompleted)
            {
                usage.Observe();
                await Task.WhenAny(rebuilding, Task.Delay(options.PollInterval, cancellationToken));
            }

            await rebuilding;
            if (settings.History == HistoryStore.Table)
            {
                await daemon.RebuildProjectionAsync<HistoryTableProjection>(options.Timeout, cancellationToken);
            }
        }

        var seconds = clock.Elapsed.TotalSeconds;
        var used = usage.Finish();
        var check = await CheckAsync(database, common.Events!.Value, cancellationToken);
        var result = common with
        {
            Phase = "rebuild",
            Seconds = Math.Round(seconds, 3),
            EventsPerSecond = Rates.PerSecond(common.Events!.Value, seconds),
            ServiceCpuPercent = used.CpuPercent,
            ServiceRssMiB = used.RssMiB,
            ServicePeakRssMiB = used.PeakRssMiB,
            Processes = used.Infrastructure,
            GeneratorCpuPercent = used.GeneratorCpuPercent,
            Note = check,
        };
        console.MarkupLineInterpolated($"[bold]rebuild chat[/]: {common.Events:N0} events in {seconds:0.00} s = [green]{result.EventsPerSecond:N0} events/s[/]; bench CPU {used.CpuPercent:0} %, peak RSS {used.PeakRssMiB:0} MiB");
        return result;
    }

    /// <summary>Null when the store holds what the backlog implies: every event in a stream, every chat document at its last seq.</summary>
    private async Task<string?> CheckAsync(NpgsqlDataSource database, long events, CancellationToken cancellationToken)
    {
        var stored = await ScalarAsync(database, $"select count(*) from {settings.Schema}.mt_events", cancellationToken);
        if (stored != events)
        {
            return $"mt_events holds {stored:N0} events, expected {events:N0}";
        }

        if (settings.ChatLifecycle is null)
        {
            return null;
        }

        var lastSeqs = await ScalarAsync(database, settings.Chat == ChatModel.Table
            ? $"select coalesce(sum(last_seq), 0)::bigint from {settings.Schema}.{ChatTableProjection.Chats}"
            : $"select coalesce(sum((data ->> 'LastSeq')::bigint), 0)::bigint from {settings.Schema}.mt_doc_chatstate", cancellationToken);
        return lastSeqs == events ? null : $"chat documents' last seqs add up to {lastSeqs:N0}, expected {events:N0}";
    }

    private static async Task<long> ScalarAsync(NpgsqlDataSource database, string sql, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand(sql);
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
    }
}
