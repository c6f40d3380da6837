using System.Diagnostics;
using Messaging.Bench.Results;
using Messaging.Contracts;
using Messaging.Contracts.Commands;
using Messaging.Contracts.Events;
using Messaging.Contracts.Serialization;
using Npgsql;
using Spectre.Console;

namespace Messaging.Bench.Components;

/// <summary>
/// Where the Projections benchmark writes and what it runs; <see cref="RebuildProjection"/> is a
/// <c>rebuild --projection</c> value or <c>none</c>. With <see cref="BaselineDll"/> each of the
/// <see cref="RebuildRounds"/> rounds rebuilds with that build first, then with the service's.
/// </summary>
public sealed record ProjectionsBenchSettings(string ConnectionString, string Schema, bool KeepSchema, string Runners, string RebuildProjection, string? BaselineDll = null, int RebuildRounds = 1);

/// <summary>
/// One Projections process over a pre-filled <c>chat.events</c>: (a) the live runners from an
/// empty schema until their checkpoints reach the topic's end, (b) the <c>rebuild</c> command over
/// the same log, timed end to end. The schema is dropped afterwards unless asked to keep it.
/// </summary>
public sealed class ProjectionsBench(ComponentOptions options, EventBacklogPlan plan, ProjectionsBenchSettings settings, IAnsiConsole console)
{
    /// <summary>
    /// The live projections that read chat.events: only chat since the cursor inbox (the inbox
    /// reads device.acks, presence device.sessions), so chat's rate is a message's whole ingest.
    /// </summary>
    private static readonly string[] EventProjections = ["chat"];

    /// <summary>Box-drawing characters of Spectre tables: a line holding one is part of a table.</summary>
    private static readonly System.Buffers.SearchValues<char> TableDrawing = System.Buffers.SearchValues.Create("│┌├└┐┘┤┬┴┼─");

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var dll = ServiceBinaries.Resolve(options.ServicePath, "Projections", "Messaging.Projections.dll", out var searched);
        if (dll is null)
        {
            console.MarkupLineInterpolated($"[red]no Projections build found ({searched}): dotnet build src/Projections -c Release[/]");
            return 1;
        }

        var startedAt = DateTimeOffset.UtcNow;
        var target = KafkaTarget.Create(options.BootstrapServers, options.KafkaProfile, options.TopicPrefix);
        var log = ResultLog.ForRun(options.ResultsDirectory, "projections", startedAt);
        console.MarkupLineInterpolated($"[bold]projections[/]: {plan.Events:N0} events over {plan.Chats:N0} chats of {plan.Members:N0} members × {plan.DevicesPerMember} devices ({plan.MembershipRows:N0} membership rows, no rows per device); prefix [blue]{target.Topics.Prefix}[/], schema [blue]{settings.Schema}[/], results to [blue]{log.Path}[/]");
        if (ServiceBinaries.IsDebugBuild(dll))
        {
            console.MarkupLineInterpolated($"[yellow]{dll} is a Debug build: the numbers are not representative (dotnet build src/Projections -c Release)[/]");
        }

        await using var database = NpgsqlDataSource.Create(settings.ConnectionString);
        try
        {
            // The topology needs a node count; the projections read no delivery topic.
            await target.EnsureTopicsAsync(edgeNodes: 1, cancellationToken);
            var prefillClock = Stopwatch.StartNew();
            Prefill(target, cancellationToken);
            prefillClock.Stop();

            var partitions = target.Partitions(target.Topics.ChatEvents);
            using var probe = new OffsetProbe(target.CreateProbe("bench-probe"));
            var ends = probe.Ends(partitions);
            var end = ends.Values.Sum();
            var events = probe.Count(partitions);
            var environment = target.ServiceEnvironment();
            environment["ConnectionStrings__Messaging"] = settings.ConnectionString;
            environment["Postgres__Schema"] = settings.Schema;
            environment["Projections__Runners"] = settings.Runners;
            environment["Urls"] = "http://127.0.0.1:0";
            foreach (var (key, value) in options.ServiceSettings)
            {
                environment[key] = value;
            }

            var common = new ComponentResult
            {
                RunId = Path.GetFileNameWithoutExtension(log.Path),
                At = startedAt,
                Component = "projections",
                Phase = "live",
                TopicPrefix = target.Topics.Prefix,
                Schema = settings.Schema,
                Service = dll,
                Settings = [.. options.ServiceSettings.Select(kv => kv.Key + "=" + kv.Value), "Projections:Runners=" + settings.Runners],
                Chats = plan.Chats,
                GroupSize = plan.Members,
                DevicesPerMember = plan.DevicesPerMember,
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

            var live = await LiveAsync(dll, environment, database, common, end, cancellationToken);
            if (live is null)
            {
                return 1;
            }

            await log.AppendAsync(live, cancellationToken);
            if (settings.RebuildProjection == "none")
            {
                return 0;
            }

            // Old and new over the same tables in one run, alternating, so that both meet the same
            // machine: on a shared machine runs minutes apart differ by more than the builds do.
            string[] builds = settings.BaselineDll is null ? [dll] : [settings.BaselineDll, dll];
            var exit = 0;
            for (var round = 0; round < settings.RebuildRounds; round++)
            {
                foreach (var build in builds)
                {
                    var rebuilt = await RebuildAsync(build, environment, database, common with { Service = build }, cancellationToken);
                    if (rebuilt is null)
                    {
                        return 1;
                    }

                    await log.AppendAsync(rebuilt, cancellationToken);
                    exit = rebuilt.CursorRows == live.CursorRows && rebuilt.Note is null ? exit : 1;
                }
            }

            return exit;
        }
        finally
        {
            if (settings.KeepSchema)
            {
                console.MarkupLineInterpolated($"kept schema [blue]{settings.Schema}[/]");
            }
            else
            {
                // Dropped even after a failure: a 1M-event run leaves a gigabyte of history behind.
                await using var drop = database.CreateCommand($"drop schema if exists {settings.Schema} cascade");
                await drop.ExecuteNonQueryAsync(CancellationToken.None);
                console.MarkupLineInterpolated($"dropped schema {settings.Schema}");
            }
        }
    }

    private async Task<ComponentResult?> LiveAsync(string dll, Dictionary<string, string> environment, NpgsqlDataSource database, ComponentResult common, long end, CancellationToken cancellationToken)
    {
        var watched = EventProjections.Where(p => settings.Runners.Split(',', StringSplitOptions.TrimEntries).Contains(p)).ToArray();
        if (watched.Length == 0)
        {
            console.MarkupLineInterpolated($"[red]--runners {settings.Runners} runs no projection of chat.events (chat)[/]");
            return null;
        }

        console.MarkupLineInterpolated($"live: starting [blue]{dll}[/] (runners {settings.Runners}); waiting for the checkpoints of {string.Join(", ", watched)} to reach {end:N0}");
        await using var service = ServiceProcess.Start(dll, [], environment);
        var usage = new UsageWindow(service.Id, "projections");
        var clock = Stopwatch.StartNew();
        var progress = watched.ToDictionary(p => p, _ => new CatchUp());
        TimeSpan? firstAt = null;
        var nextProgress = options.ProgressInterval;
        while (true)
        {
            await Task.Delay(options.PollInterval, cancellationToken);
            if (service.HasExited)
            {
                console.MarkupLineInterpolated($"[red]Projections exited with code {service.ExitCode}:[/]");
                console.WriteLine(service.OutputTail);
                return null;
            }

            var positions = await CheckpointsAsync(database, environment["Kafka__TopicPrefix"] + "chat.events", cancellationToken);
            var now = clock.Elapsed;
            foreach (var (name, catchUp) in progress)
            {
                catchUp.Observe(positions.GetValueOrDefault(name), end, now);
            }

            if (firstAt is null && progress.Values.Any(c => c.FirstAt is not null))
            {
                firstAt = progress.Values.Where(c => c.FirstAt is not null).Min(c => c.FirstAt);
                usage.Start();
            }

            usage.Observe();
            if (progress.Values.All(c => c.DoneAt is not null))
            {
                break;
            }

            if (now >= nextProgress)
            {
                console.MarkupLineInterpolated($"  {now.TotalSeconds,6:0.0} s: {string.Join(", ", progress.Select(kv => $"{kv.Key} {kv.Value.Position:N0}/{end:N0} ({kv.Value.Rate(now):N0}/s)"))}");
                nextProgress = now + options.ProgressInterval;
            }

            if (now > options.Timeout)
            {
                console.MarkupLineInterpolated($"[red]timed out after {options.Timeout.TotalSeconds:0} s; Projections output:[/]");
                console.WriteLine(service.OutputTail);
                return null;
            }
        }

        var used = usage.Finish();
        var doneAt = progress.Values.Max(c => c.DoneAt!.Value);
        await service.StopAsync();
        var cursorRows = await CountAsync(database, "device_cursors", cancellationToken);
        var memberRows = await CountAsync(database, "chat_members", cancellationToken);
        var rates = progress.Select(kv => kv.Value.Result(kv.Key)).ToList();
        var seconds = (doneAt - firstAt!.Value).TotalSeconds;

        // What the first page applied before the window opened is not part of it.
        var events = common.Events!.Value - progress.Values.Where(c => c.FirstAt == firstAt).Max(c => c.FirstPosition);
        var result = common with
        {
            Phase = "live",
            StartupSeconds = Math.Round(firstAt.Value.TotalSeconds, 2),
            Seconds = Math.Round(seconds, 3),
            EventsPerSecond = Rates.PerSecond(events, seconds),
            CursorRows = cursorRows,
            Projections = rates,
            ServiceCpuPercent = used.CpuPercent,
            ServiceRssMiB = used.RssMiB,
            ServicePeakRssMiB = used.PeakRssMiB,
            Processes = used.Infrastructure,
            GeneratorCpuPercent = used.GeneratorCpuPercent,
            Note = memberRows == plan.MembershipRows ? null : $"chat_members holds {memberRows} rows, expected {plan.MembershipRows}",
        };
        console.MarkupLineInterpolated($"[bold]live[/]: {events:N0} events in {seconds:0.00} s = [green]{result.EventsPerSecond:N0} events/s[/] ({string.Join(", ", rates.Select(r => $"{r.Name} {r.EventsPerSecond:N0}/s in {r.Seconds:0.0} s"))}); {memberRows:N0} membership rows; CPU {used.CpuPercent:0} %, RSS {used.RssMiB:0} MiB (peak {used.PeakRssMiB:0}); start-up {result.StartupSeconds:0.0} s");
        if (result.Note is not null)
        {
            console.MarkupLineInterpolated($"  [yellow]{result.Note}[/]");
        }

        return result;
    }

    private async Task<ComponentResult?> RebuildAsync(string dll, Dictionary<string, string> environment, NpgsqlDataSource database, ComponentResult common, CancellationToken cancellationToken)
    {
        console.MarkupLineInterpolated($"rebuild: dotnet {Path.GetFileName(dll)} rebuild --projection {settings.RebuildProjection}");
        var clock = Stopwatch.StartNew();
        await using var rebuild = ServiceProcess.Start(dll, ["rebuild", "--projection", settings.RebuildProjection], environment, EchoRebuildLine);
        var usage = new UsageWindow(rebuild.Id, "projections");
        usage.Start();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Timeout);
        var exited = rebuild.WaitForExitAsync(timeout.Token);
        while (!exited.IsCompleted)
        {
            // The command's CPU and memory can only be read while it runs: sample on every poll.
            usage.Observe();
            await Task.WhenAny(exited, Task.Delay(options.PollInterval, cancellationToken));
        }

        var seconds = clock.Elapsed.TotalSeconds;
        if (exited.IsCanceled || exited.IsFaulted)
        {
            console.MarkupLineInterpolated($"[red]rebuild did not finish within {options.Timeout.TotalSeconds:0} s[/]");
            return null;
        }

        var used = usage.Finish();
        if (rebuild.ExitCode != 0)
        {
            console.MarkupLineInterpolated($"[red]rebuild exited with code {rebuild.ExitCode}[/]");
            return null;
        }

        var events = common.Events!.Value;
        var cursorRows = await CountAsync(database, "device_cursors", cancellationToken);
        var memberRows = await CountAsync(database, "chat_members", cancellationToken);
        var result = common with
        {
            Phase = "rebuild",
            Settings = [.. common.Settings, "rebuild --projection " + settings.RebuildProjection],
            Seconds = Math.Round(seconds, 3),
            EventsPerSecond = Rates.PerSecond(events, seconds),
            CursorRows = cursorRows,
            ServiceCpuPercent = used.CpuPercent,
            ServiceCpuSeconds = Math.Round(used.CpuPercent * seconds / 100, 2),
            ServiceRssMiB = used.RssMiB,
            ServicePeakRssMiB = used.PeakRssMiB,
            Processes = used.Infrastructure,
            GeneratorCpuPercent = used.GeneratorCpuPercent,
            Note = memberRows == plan.MembershipRows ? null : $"chat_members holds {memberRows} rows after the swap, expected {plan.MembershipRows}",
        };
        console.MarkupLineInterpolated($"[bold]rebuild {settings.RebuildProjection}[/] ({dll}): {events:N0} events in {seconds:0.00} s (wall time, start-up included) = [green]{result.EventsPerSecond:N0} events/s[/]; {memberRows:N0} membership rows after the swap; CPU {used.CpuPercent:0} % = {result.ServiceCpuSeconds:0.00} s, peak RSS {used.PeakRssMiB:0} MiB; infrastructure {string.Join(", ", used.Infrastructure.Select(p => $"{p.Kind} {p.CpuPercent * seconds / 100:0.0} s"))}");
        return result;
    }

    /// <summary>
    /// The rebuild's phases and totals, without its plan tables and per-partition lines: Spectre
    /// draws them 80 columns wide when the output is a pipe, and they would bury the totals.
    /// </summary>
    private void EchoRebuildLine(string line)
    {
        if (line.AsSpan().IndexOfAny(TableDrawing) >= 0 || line.StartsWith(options.TopicPrefix, StringComparison.Ordinal) || line.Trim().Length == 0)
        {
            return;
        }

        console.WriteLine("  | " + line);
    }

    private async Task<Dictionary<string, long>> CheckpointsAsync(NpgsqlDataSource database, string topic, CancellationToken cancellationToken)
    {
        var positions = new Dictionary<string, long>(StringComparer.Ordinal);
        try
        {
            await using var command = database.CreateCommand($"""select projection, sum(next_offset)::bigint from {settings.Schema}.checkpoints where topic = $1 group by projection""");
            command.Parameters.Add(new NpgsqlParameter { Value = topic });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                positions[reader.GetString(0)] = reader.GetInt64(1);
            }
        }
        catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.UndefinedTable or PostgresErrorCodes.InvalidSchemaName)
        {
            // The service has not applied its migrations yet.
        }

        return positions;
    }

    private async Task<long> CountAsync(NpgsqlDataSource database, string table, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand($"select count(*) from {settings.Schema}.{table}");
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>
    /// ChatCreated for the first Chats events, then MessageSent; one producer, so each chat's seqs arrive in order.
    /// </summary>
    internal void Prefill(KafkaTarget target, CancellationToken cancellationToken)
    {
        var topic = target.Topics.ChatEvents;
        var startedAt = DateTimeOffset.UtcNow;
        var body = new string('x', plan.BodyBytes);
        using var producer = new BacklogProducer(target, RouterBench.Merge(BacklogProducer.DefaultSettings, options.ProducerSettings), console, options.ProgressInterval);
        producer.ProduceAll("chat.events", plan.Events, i =>
        {
            var (chat, seq) = plan.At(i);
            var sender = (int)(seq % plan.Members);
            var actor = new DeviceRef(EventBacklogPlan.UserId(chat, sender), EventBacklogPlan.DeviceId(chat, sender));

            // Recent timestamps: retention would delete rows older than its window.
            var at = startedAt.AddTicks(i);
            ChatEvent evt = seq == 1
                ? new ChatCreated
                {
                    ChatId = EventBacklogPlan.ChatId(chat),
                    Seq = seq,
                    Actor = actor,
                    OccurredAt = at,
                    Kind = ChatKind.Group,
                    Title = "bench " + EventBacklogPlan.ChatId(chat),
                    Members = [.. Enumerable.Range(0, plan.Members).Select(m => new ChatMember(EventBacklogPlan.UserId(chat, m), m == 0 ? MemberRole.Admin : MemberRole.Member))],
                }
                : new MessageSent
                {
                    ChatId = EventBacklogPlan.ChatId(chat),
                    Seq = seq,
                    Actor = actor,
                    OccurredAt = at,
                    MessageId = Guid.CreateVersion7(at).ToString(),
                    ClientMsgId = "c" + i.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    Body = body,
                };
            return (topic, evt.ChatId, Codecs.Events.Encode(evt));
        }, cancellationToken);
    }

    /// <summary>One projection's checkpoint over the run: when it first moved and when it reached the end.</summary>
    private sealed class CatchUp
    {
        public long Position { get; private set; }

        public TimeSpan? FirstAt { get; private set; }

        public long FirstPosition { get; private set; }

        public TimeSpan? DoneAt { get; private set; }

        public void Observe(long position, long end, TimeSpan now)
        {
            Position = position;
            if (FirstAt is null && position > 0)
            {
                FirstAt = now;
                FirstPosition = position;
            }

            if (DoneAt is null && position >= end)
            {
                DoneAt = now;
            }
        }

        /// <summary>Events/s since the first move, up to the end once it is done (a finished projection's rate stays put).</summary>
        public double Rate(TimeSpan now)
        {
            var until = DoneAt ?? now;
            return FirstAt is { } f && until > f ? (Position - FirstPosition) / (until - f).TotalSeconds : 0;
        }

        public ProjectionRate Result(string name)
        {
            var seconds = (DoneAt!.Value - FirstAt!.Value).TotalSeconds;
            var events = Position - FirstPosition;
            return new ProjectionRate(name, Math.Round(seconds, 3), events, Rates.PerSecond(events, seconds));
        }
    }
}
