using System.Diagnostics;
using System.Globalization;
using Messaging.Bench.Charts;
using Messaging.Bench.Connections;
using Messaging.Bench.Metrics;
using Messaging.Bench.Results;
using Messaging.Contracts.Protocol;
using Spectre.Console;

namespace Messaging.Bench.Load;

/// <summary>
/// Runs a scenario against the real Edge nodes: set-up (tokens, sockets, chats, a readiness probe),
/// then the measured steps, one JSON line each, and the chart of a rate sweep.
/// </summary>
public sealed class LoadRunner
{
    /// <summary>Bit-set capacity head-room over the planned message count (sender slots are not perfectly even).</summary>
    private const double CapacityHeadroom = 2.0;

    /// <summary>How often the drain checks whether every delivery has arrived.</summary>
    private static readonly TimeSpan DrainPoll = TimeSpan.FromMilliseconds(250);

    private readonly LoadOptions _options;
    private readonly IAnsiConsole _console;
    private readonly ProcessSampler _sampler;
    private readonly BrokerRequestSampler? _broker;
    private readonly MachineInfo _machine = MachineInfo.Current();
    private readonly DateTimeOffset _startedAt = DateTimeOffset.UtcNow;

    public LoadRunner(LoadOptions options, IAnsiConsole console)
    {
        _options = options;
        _console = console;
        var services = ProcessSampler.ReadServicePids(options.ServicePidsDirectory);
        _sampler = new ProcessSampler(ProcessKind.System, services);

        // The services' broker, as make bench's environment (stack.sh env) gives it to them.
        _broker = BrokerRequestSampler.Create(Environment.GetEnvironmentVariable("Kafka__BootstrapServers"), services);
        if (services is null)
        {
            _console.MarkupLineInterpolated($"[yellow]no live service pid files in {options.ServicePidsDirectory}: CPU counts every Edge/Router/Projections process on this machine[/]");
        }
        else
        {
            _console.MarkupLineInterpolated($"CPU of services {string.Join(", ", services.Values.Order(StringComparer.Ordinal))} (pid files in {options.ServicePidsDirectory})");
        }
    }

    public static string ScenarioName(Scenario scenario) => scenario switch
    {
        Scenario.GroupFanout => "group-fanout",
        Scenario.Direct => "direct",
        Scenario.OfflineCatchup => "offline-catchup",
        Scenario.Connect => "connect",
        _ => throw new ArgumentOutOfRangeException(nameof(scenario), scenario, null),
    };

    private string RunId => string.Create(CultureInfo.InvariantCulture, $"{ScenarioName(_options.Scenario)}-{_startedAt.UtcDateTime:yyyyMMdd'T'HHmmss'Z'}");

    /// <summary>0 when every step ran (stopping at the limit counts), 1 when set-up failed.</summary>
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var log = ResultLog.ForRun(_options.ResultsDirectory, ScenarioName(_options.Scenario), _startedAt);
        _console.MarkupLineInterpolated($"[bold]{ScenarioName(_options.Scenario)}[/]: {_options.Users} users × {_options.DevicesPerUser} devices over {_options.Edges.Count} Edge nodes, results to [blue]{log.Path}[/]");
        return _options.Scenario switch
        {
            Scenario.Connect => await RunConnectAsync(log, cancellationToken),
            Scenario.OfflineCatchup => await RunOfflineCatchupAsync(log, cancellationToken),
            _ => await RunSweepAsync(log, cancellationToken),
        };
    }

    private async Task<int> RunSweepAsync(ResultLog log, CancellationToken cancellationToken)
    {
        var plan = LoadPlan.Create(_options.Scenario, _options.Users, _options.GroupSize, _options.Edges.Count, UserPrefix(), _options.DevicesPerUser);
        double planned = 0;
        for (var i = 0; i < _options.Rates.Count; i++)
        {
            planned += _options.Rates[i] * (_options.WarmupFor(i + 1) + _options.Duration).TotalSeconds;
        }

        var tracker = new DeliveryTracker(plan, PerChatCapacity(plan, planned));
        await using var fleet = new DeviceFleet(plan, _options);
        using var stopAcks = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var acks = new AckFlusher(tracker, fleet, plan.Devices.Count, _options.AckInterval, _options.Receipts);
        if (!await SetUpAsync(plan, tracker, fleet, AllDevices(plan), cancellationToken))
        {
            return 1;
        }

        var ackLoop = acks.RunAsync(stopAcks.Token);
        var sender = new OpenLoopSender(tracker, fleet, _options.BodyBytes);
        var steps = new List<StepResult>();
        for (var i = 0; i < _options.Rates.Count; i++)
        {
            var step = i + 1;
            var result = await RunStepAsync(step, _options.Rates[i], plan, tracker, fleet, sender, cancellationToken);
            steps.Add(result);
            await log.AppendAsync(result, cancellationToken);
            PrintStep(result);
            if (result.StoppedBecause is not null)
            {
                _console.MarkupLineInterpolated($"[yellow]stopping: {result.StoppedBecause}[/]");
                break;
            }
        }

        await stopAcks.CancelAsync();
        await ackLoop;
        PrintSummary(steps);
        await WriteChartAsync(steps, cancellationToken);
        return 0;
    }

    private async Task<StepResult> RunStepAsync(int step, double rate, LoadPlan plan, DeliveryTracker tracker, DeviceFleet fleet, OpenLoopSender sender, CancellationToken cancellationToken)
    {
        // Start a little ahead so the window timestamps below are set before message 0 is due.
        var schedule = new OpenLoopSchedule(rate, Stopwatch.GetTimestamp() + (Stopwatch.Frequency / 20), Stopwatch.Frequency);
        var warmup = _options.WarmupFor(step);
        var warmupCount = schedule.CountFor(warmup);
        var totalCount = warmupCount + Math.Max(1, schedule.CountFor(_options.Duration));
        var windowStart = schedule.IntendedTimestamp(warmupCount);
        var windowEnd = schedule.IntendedTimestamp(totalCount);
        tracker.SetWindow(step, DeliveryTracker.ToMicros(windowStart), DeliveryTracker.ToMicros(windowEnd));
        _console.MarkupLineInterpolated($"step {step}: {rate:0} sends/s offered, {warmup.TotalSeconds:0} s warm-up + {_options.Duration.TotalSeconds:0} s measured");

        var errorsBefore = tracker.SendErrors;
        var sampling = SampleWindowAsync(tracker, windowStart, windowEnd, cancellationToken);
        var sent = await sender.SendAsync(step, schedule, warmupCount, totalCount, plan.SendSlots, cancellationToken);
        var window = await sampling;

        var drainStarted = Stopwatch.GetTimestamp();
        var (expected, missing, acceptedMessages) = tracker.Reconcile(sent.MeasuredFrom, sent.MeasuredTo);
        while ((missing > 0 || acceptedMessages + (tracker.SendErrors - errorsBefore) < sent.MeasuredDispatched)
            && Stopwatch.GetElapsedTime(drainStarted) < _options.Drain)
        {
            await Task.Delay(DrainPoll, cancellationToken);
            (expected, missing, acceptedMessages) = tracker.Reconcile(sent.MeasuredFrom, sent.MeasuredTo);
        }

        var latency = LatencySummary.From(tracker.Latency(step));
        var hops = HopSummaries(tracker.HopLatency(step));
        var closed = fleet.ClosedUnexpectedly();
        var stoppedBecause = latency.P99 > _options.MaxP99.TotalMilliseconds
            ? string.Create(CultureInfo.InvariantCulture, $"p99 {latency.P99:0.#} ms > {_options.MaxP99.TotalMilliseconds:0} ms")
            : missing > 0 ? string.Create(CultureInfo.InvariantCulture, $"{missing} deliveries missing after a {_options.Drain.TotalSeconds:0} s drain")
            : null;

        return new StepResult
        {
            RunId = RunId,
            At = DateTimeOffset.UtcNow,
            Scenario = ScenarioName(_options.Scenario),
            Step = step,
            OfferedRate = rate,
            WarmupSeconds = warmup.TotalSeconds,
            DurationSeconds = Math.Round(window.Elapsed.TotalSeconds, 3),
            Users = _options.Users,
            DevicesPerUser = _options.DevicesPerUser == 1 ? null : _options.DevicesPerUser,
            GroupSize = _options.Scenario == Scenario.Direct ? 2 : _options.GroupSize,
            EdgeNodes = _options.Edges.Count,
            BodyBytes = _options.BodyBytes,
            SendsPerSecond = PerSecond(window.AcceptedDelta, window.Elapsed),
            DeliveriesPerSecond = PerSecond(window.DeliveredDelta, window.Elapsed),
            Sent = sent.MeasuredDispatched,
            Accepted = acceptedMessages,
            SendErrors = tracker.SendErrors - errorsBefore + sent.EnqueueFailures,
            ExpectedDeliveries = expected,
            Delivered = expected - missing,
            Missing = missing,
            Duplicates = tracker.Duplicates(step),
            LatencyMs = latency,
            Processes = window.Processes,
            ServerCpu = window.ServerCpu,
            BrokerRequests = window.BrokerRequests,
            HopsMs = hops,
            GeneratorCpuPercent = window.GeneratorCpuPercent,
            Machine = _machine,
            Note = _options.Receipts
                ? Invariant($"receipts on (reads too). {Notes(sent.MaxLag, closed, tracker)}").Trim()
                : Notes(sent.MaxLag, closed, tracker),
            StoppedBecause = stoppedBecause,
        };
    }

    private async Task<int> RunOfflineCatchupAsync(ResultLog log, CancellationToken cancellationToken)
    {
        var plan = LoadPlan.Create(Scenario.OfflineCatchup, _options.Users, _options.GroupSize, _options.Edges.Count, UserPrefix(), _options.DevicesPerUser, separateSenders: !_options.MemberSenders);
        var tracker = new DeliveryTracker(plan, (long)(_options.OfflineMessages * CapacityHeadroom) + 16);
        await using var fleet = new DeviceFleet(plan, _options);
        using var stopAcks = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var acks = new AckFlusher(tracker, fleet, plan.Devices.Count, _options.AckInterval, _options.Receipts);
        if (!await SetUpAsync(plan, tracker, fleet, AllDevices(plan), cancellationToken))
        {
            return 1;
        }

        var ackLoop = acks.RunAsync(stopAcks.Token);
        var creators = new List<SendSlot>();
        var offline = new List<int>();
        foreach (var chat in plan.Chats)
        {
            creators.Add(new SendSlot(chat.Members[0], chat.Index));
            for (var m = 1; m < chat.Members.Count; m++)
            {
                offline.Add(chat.Members[m]);
            }
        }

        // Let the probe's acks go out before the devices leave, so their cursors stand past the probe and a sync streams only what follows.
        await Task.Delay(_options.AckInterval * 2, cancellationToken);
        await fleet.DisconnectAsync(offline, cancellationToken);
        await Task.Delay(_options.Settle, cancellationToken);

        const int Step = 1;
        var rate = _options.Rates[0];
        var total = (long)_options.OfflineMessages * plan.Chats.Count;
        _console.MarkupLineInterpolated($"{offline.Count} devices offline; sending {_options.OfflineMessages} messages to each of {plan.Chats.Count} groups at {rate:0}/s");
        var received = new long[plan.Devices.Count];
        for (var d = 0; d < received.Length; d++)
        {
            received[d] = tracker.ReceivedBy(d);
        }

        var sender = new OpenLoopSender(tracker, fleet, _options.BodyBytes);
        var schedule = new OpenLoopSchedule(rate, Stopwatch.GetTimestamp(), Stopwatch.Frequency);
        var errorsBefore = tracker.SendErrors;
        var sent = await sender.SendAsync(Step, schedule, 0, total, creators, cancellationToken);
        var acceptDeadline = Stopwatch.GetTimestamp();
        while (tracker.Reconcile(sent.MeasuredFrom, sent.MeasuredTo).AcceptedMessages + (tracker.SendErrors - errorsBefore) < total
            && Stopwatch.GetElapsedTime(acceptDeadline) < _options.Drain)
        {
            await Task.Delay(DrainPoll, cancellationToken);
        }

        // The history is written by the chat projection after the send is accepted (a sync waits for it, bounded): give it time to catch up.
        await Task.Delay(_options.Settle, cancellationToken);
        var targets = new long[plan.Devices.Count];
        Array.Fill(targets, long.MaxValue);
        foreach (var device in offline)
        {
            targets[device] = received[device] + tracker.ExpectedFor(device, sent.MeasuredFrom, sent.MeasuredTo);
        }

        using var catchupTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        catchupTimeout.CancelAfter(_options.SetupTimeout);
        var catchup = new CatchupHandler(tracker, acks, targets, offline.Count, catchupTimeout.Token);
        _console.MarkupLineInterpolated($"reconnecting {offline.Count} devices and syncing");
        var before = _sampler.Sample();
        var cpuBefore = ProcessSampler.GeneratorProcessorTime();
        var started = Stopwatch.GetTimestamp();
        catchup.Start();
        var connectTime = await ConnectAndSyncAsync(fleet, offline, catchup, catchupTimeout.Token);
        try
        {
            await catchup.AllDone.WaitAsync(catchupTimeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            _console.MarkupLineInterpolated($"[red]{catchup.Remaining} devices had not caught up after {_options.SetupTimeout.TotalSeconds:0} s[/]");
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        var processes = _sampler.Usage(before, _sampler.Sample(), elapsed);
        var cpu = ProcessSampler.GeneratorCpuPercent(cpuBefore, ProcessSampler.GeneratorProcessorTime(), elapsed);
        var (expected, missing, accepted) = tracker.Reconcile(sent.MeasuredFrom, sent.MeasuredTo);
        var drain = LatencySummary.From(catchup.DrainMicros);
        var result = new StepResult
        {
            RunId = RunId,
            At = DateTimeOffset.UtcNow,
            Scenario = ScenarioName(Scenario.OfflineCatchup),
            Step = Step,
            OfferedRate = rate,
            WarmupSeconds = 0,
            DurationSeconds = Math.Round(elapsed.TotalSeconds, 3),
            Users = _options.Users,
            GroupSize = _options.GroupSize,
            EdgeNodes = _options.Edges.Count,
            BodyBytes = _options.BodyBytes,
            SendsPerSecond = 0,
            DeliveriesPerSecond = Math.Round((expected - missing) / elapsed.TotalSeconds, 1),
            Sent = sent.Dispatched,
            Accepted = accepted,
            SendErrors = tracker.SendErrors - errorsBefore + sent.EnqueueFailures,
            ExpectedDeliveries = expected,
            Delivered = expected - missing,
            Missing = missing,
            Duplicates = tracker.Duplicates(Step),
            LatencyMs = drain,
            Processes = processes,
            GeneratorCpuPercent = cpu,
            Machine = _machine,
            ConnectSeconds = Math.Round(connectTime.TotalSeconds, 3),
            DrainSeconds = Math.Round(drain.Max / 1000, 3),
            Note = string.Create(CultureInfo.InvariantCulture, $"{offline.Count} devices x {_options.OfflineMessages} messages offline; latencyMs is per-device time from reconnect to holding every message; {catchup.SyncRequests} sync requests. {Notes(sent.MaxLag, 0, tracker)}").Trim(),
        };
        await log.AppendAsync(result, cancellationToken);
        _console.MarkupLineInterpolated($"caught up: {offline.Count - catchup.Remaining}/{offline.Count} devices, last after {result.DrainSeconds:0.###} s, p50 {drain.P50:0.#} ms, p99 {drain.P99:0.#} ms; missing {missing}, duplicates {result.Duplicates}");
        await stopAcks.CancelAsync();
        await ackLoop;
        return 0;
    }

    private async Task<int> RunConnectAsync(ResultLog log, CancellationToken cancellationToken)
    {
        var plan = LoadPlan.Create(Scenario.Connect, _options.Users, _options.GroupSize, _options.Edges.Count, UserPrefix(), _options.DevicesPerUser);
        await using var fleet = new DeviceFleet(plan, _options);
        var tracker = new DeliveryTracker(plan, 0);
        var all = AllDevices(plan);
        _console.MarkupLineInterpolated($"getting {all.Length} tokens");
        var tokenTime = await fleet.FetchTokensAsync(all, cancellationToken);
        var edgeBefore = _sampler.ResidentBytes("edge");
        var before = _sampler.Sample();
        var cpuBefore = ProcessSampler.GeneratorProcessorTime();
        _console.MarkupLineInterpolated($"tokens in {tokenTime.TotalSeconds:0.0} s; opening {all.Length} connections, {_options.ConnectConcurrency} at a time (edge RSS {edgeBefore / 1048576.0:0} MiB)");
        var started = Stopwatch.GetTimestamp();
        var connectTime = await fleet.ConnectAsync(all, tracker, cancellationToken);
        var elapsed = Stopwatch.GetElapsedTime(started);
        var processes = _sampler.Usage(before, _sampler.Sample(), elapsed);
        var cpu = ProcessSampler.GeneratorCpuPercent(cpuBefore, ProcessSampler.GeneratorProcessorTime(), elapsed);

        // Idle means idle: let the sessions' registration and the first GC settle before weighing them.
        await Task.Delay(_options.Settle, cancellationToken);
        var edgeAfter = _sampler.ResidentBytes("edge");
        var perConnection = all.Length == 0 ? 0 : (edgeAfter - edgeBefore) / (double)all.Length;
        var closed = fleet.ClosedUnexpectedly();
        var result = new StepResult
        {
            RunId = RunId,
            At = DateTimeOffset.UtcNow,
            Scenario = ScenarioName(Scenario.Connect),
            Step = 1,
            OfferedRate = 0,
            WarmupSeconds = 0,
            DurationSeconds = Math.Round(elapsed.TotalSeconds, 3),
            Users = _options.Users,
            GroupSize = 0,
            EdgeNodes = _options.Edges.Count,
            BodyBytes = 0,
            SendsPerSecond = 0,
            DeliveriesPerSecond = 0,
            Sent = 0,
            Accepted = 0,
            SendErrors = 0,
            ExpectedDeliveries = 0,
            Delivered = 0,
            Missing = 0,
            Duplicates = 0,
            LatencyMs = new LatencySummary(0, 0, 0, 0, 0),
            Processes = processes,
            GeneratorCpuPercent = cpu,
            Machine = _machine,
            ConnectSeconds = Math.Round(connectTime.TotalSeconds, 3),
            EdgeRssPerConnectionBytes = Math.Round(perConnection),
            Note = string.Create(CultureInfo.InvariantCulture, $"edge RSS {edgeBefore / 1048576.0:0.0} MiB before, {edgeAfter / 1048576.0:0.0} MiB after {all.Length} connections ({_options.Settle.TotalSeconds:0} s later); tokens took {tokenTime.TotalSeconds:0.0} s; {closed} connections closed by the server"),
        };
        await log.AppendAsync(result, cancellationToken);
        _console.MarkupLineInterpolated($"{all.Length} connections in {connectTime.TotalSeconds:0.00} s ({all.Length / connectTime.TotalSeconds:0} /s); Edge RSS per idle connection {perConnection / 1024:0.0} KiB; {closed} closed by the server");
        return 0;
    }

    /// <summary>Tokens, sockets, chats and a readiness probe; false (with the reason printed) when something is not working.</summary>
    private async Task<bool> SetUpAsync(LoadPlan plan, DeliveryTracker tracker, DeviceFleet fleet, int[] devices, CancellationToken cancellationToken)
    {
        try
        {
            _console.MarkupLineInterpolated($"connecting {devices.Length} devices, {_options.ConnectConcurrency} at a time");
            var connectTime = await fleet.ConnectAsync(devices, tracker, cancellationToken);
            _console.MarkupLineInterpolated($"connected in {connectTime.TotalSeconds:0.00} s; waiting {_options.Settle.TotalSeconds:0} s for the device registry");
            await Task.Delay(_options.Settle, cancellationToken);
            var created = Stopwatch.GetTimestamp();
            await CreateChatsAsync(plan, tracker, fleet, cancellationToken);
            _console.MarkupLineInterpolated($"{plan.Chats.Count} chats created in {Stopwatch.GetElapsedTime(created).TotalSeconds:0.00} s");
            return await ProbeAsync(plan, tracker, fleet, cancellationToken);
        }
        catch (Exception ex) when (ex is DevTokenException or HttpRequestException or System.Net.WebSockets.WebSocketException or OperationCanceledException or InvalidOperationException && !cancellationToken.IsCancellationRequested)
        {
            _console.MarkupLineInterpolated($"[red]set-up failed: {ex.GetType().Name}: {ex.Message}[/]");
            return false;
        }
    }

    private async Task CreateChatsAsync(LoadPlan plan, DeliveryTracker tracker, DeviceFleet fleet, CancellationToken cancellationToken)
    {
        var options = new ParallelOptions { MaxDegreeOfParallelism = _options.ConnectConcurrency, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(plan.Chats, options, async (chat, ct) =>
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(_options.SetupTimeout);
            var creator = fleet.Connection(chat.Members[0]);
            var requestId = "setup-" + chat.Index.ToString(CultureInfo.InvariantCulture);
            ClientFrame request;
            if (chat.IsDirect)
            {
                // A direct chat is opened by its first message (its id is deterministic from the pair).
                request = new SendMessageFrame { Id = requestId, ToUserId = plan.Devices[chat.Members[1]].UserId, ClientMsgId = requestId, Body = "hello" };
            }
            else
            {
                // Members are users: a user's other devices join with it.
                var creatorUser = plan.Devices[chat.Members[0]].UserId;
                var members = new List<string>(chat.Members.Count);
                var seen = new HashSet<string>(StringComparer.Ordinal) { creatorUser };
                for (var m = 1; m < chat.Members.Count; m++)
                {
                    var user = plan.Devices[chat.Members[m]].UserId;
                    if (seen.Add(user))
                    {
                        members.Add(user);
                    }
                }

                request = new CreateChatFrame { Id = requestId, Members = members, Title = requestId };
            }

            var reply = await creator.RequestAsync(request, timeout.Token);
            var chatId = reply switch
            {
                ChatCreatedFrame createdFrame => createdFrame.ChatId,
                MessageAcceptedFrame accepted => accepted.ChatId,
                ErrorFrame error => throw new InvalidOperationException($"creating chat {chat.Index} was refused: {error.Code} {error.Message}"),
                _ => throw new InvalidOperationException($"creating chat {chat.Index} got an unexpected {reply.GetType().Name}"),
            };
            tracker.SetChatId(chat.Index, chatId);
        });
    }

    /// <summary>
    /// One message per chat from its creator, waited for at every member: catches a device registry
    /// that has not reached the Router yet before it shows up as missing deliveries in step 1.
    /// </summary>
    private async Task<bool> ProbeAsync(LoadPlan plan, DeliveryTracker tracker, DeviceFleet fleet, CancellationToken cancellationToken)
    {
        const int ProbeStep = 0;
        var sender = new OpenLoopSender(tracker, fleet, _options.BodyBytes);
        var from = tracker.SnapshotNextIndices();
        tracker.SetWindow(ProbeStep, 0, long.MaxValue);
        var started = Stopwatch.GetTimestamp();
        foreach (var chat in plan.Chats)
        {
            sender.Dispatch(ProbeStep, new SendSlot(chat.Members[0], chat.Index), Stopwatch.GetTimestamp());
        }

        var to = tracker.SnapshotNextIndices();
        var (expected, missing, accepted) = tracker.Reconcile(from, to);
        while ((missing > 0 || accepted < plan.Chats.Count) && Stopwatch.GetElapsedTime(started) < _options.SetupTimeout)
        {
            await Task.Delay(DrainPoll, cancellationToken);
            (expected, missing, accepted) = tracker.Reconcile(from, to);
        }

        var latency = LatencySummary.From(tracker.Latency(ProbeStep));
        if (missing > 0 || accepted < plan.Chats.Count)
        {
            _console.MarkupLineInterpolated($"[red]probe: {accepted}/{plan.Chats.Count} sends accepted, {expected - missing}/{expected} deliveries after {_options.SetupTimeout.TotalSeconds:0} s; errors: {string.Join(" | ", tracker.RecentErrors)}[/]");
            return false;
        }

        _console.MarkupLineInterpolated($"probe: all {expected} deliveries arrived (max {latency.Max:0.#} ms); measuring");
        return true;
    }

    private async Task<TimeSpan> ConnectAndSyncAsync(DeviceFleet fleet, IReadOnlyList<int> devices, CatchupHandler catchup, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var options = new ParallelOptions { MaxDegreeOfParallelism = _options.ConnectConcurrency, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(devices, options, async (device, ct) =>
        {
            await fleet.ConnectAsync([device], catchup, ct);
            catchup.RequestSync(fleet.Connection(device));
        });
        return Stopwatch.GetElapsedTime(started);
    }

    private async Task<SampledWindow> SampleWindowAsync(DeliveryTracker tracker, long windowStart, long windowEnd, CancellationToken cancellationToken)
    {
        await DelayUntilAsync(windowStart, cancellationToken);
        var processesBefore = _sampler.Sample();
        // No sockets seen (no ss, or no permission to see the owners): report nothing rather than zeros.
        var socketsBefore = _broker?.Sample();
        var cpuBefore = ProcessSampler.GeneratorProcessorTime();
        var deliveredBefore = tracker.Delivered;
        var acceptedBefore = tracker.Accepted;
        var startedAt = Stopwatch.GetTimestamp();
        await DelayUntilAsync(windowEnd, cancellationToken);
        var deliveredAfter = tracker.Delivered;
        var acceptedAfter = tracker.Accepted;
        var elapsed = Stopwatch.GetElapsedTime(startedAt);
        var processesAfter = _sampler.Sample();
        var requests = _broker is not null && socketsBefore is { Count: > 0 } ? _broker.PerProcess(socketsBefore, _broker.Sample(), elapsed) : null;
        var processes = _sampler.Usage(processesBefore, processesAfter, elapsed);
        var perProcess = _sampler.PerProcess(processesBefore, processesAfter, elapsed, deliveredAfter - deliveredBefore);
        var cpu = ProcessSampler.GeneratorCpuPercent(cpuBefore, ProcessSampler.GeneratorProcessorTime(), elapsed);
        return new SampledWindow(elapsed, deliveredAfter - deliveredBefore, acceptedAfter - acceptedBefore, processes, perProcess, cpu, requests);
    }

    private static async Task DelayUntilAsync(long timestamp, CancellationToken cancellationToken)
    {
        var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), timestamp);
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, cancellationToken);
        }
    }

    private async Task WriteChartAsync(List<StepResult> steps, CancellationToken cancellationToken)
    {
        if (steps.Count == 0 || string.IsNullOrEmpty(_options.ChartPath))
        {
            return;
        }

        var path = _options.ChartPath == LoadOptions.ChartNextToResults
            ? Path.Combine(_options.ResultsDirectory, RunId + ".svg")
            : _options.ChartPath;
        var directory = Path.GetDirectoryName(path);
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        var svg = BenchChart.Render(steps, $"Messaging {ScenarioName(_options.Scenario)}: latency and throughput vs offered load");
        await File.WriteAllBytesAsync(path, svg, cancellationToken);
        _console.MarkupLineInterpolated($"chart: [blue]{path}[/]");
    }

    private void PrintStep(StepResult result)
    {
        var color = result.StoppedBecause is null ? "green" : "yellow";
        _console.MarkupLine(string.Create(
            CultureInfo.InvariantCulture,
            $"[{color}]  {result.OfferedRate:0}/s offered: {result.SendsPerSecond:0} sends/s, {result.DeliveriesPerSecond:0} deliveries/s, p50 {result.LatencyMs.P50:0.0} ms, p95 {result.LatencyMs.P95:0.0} ms, p99 {result.LatencyMs.P99:0.0} ms, max {result.LatencyMs.Max:0.0} ms, missing {result.Missing}, duplicates {result.Duplicates}, errors {result.SendErrors}[/]"));
        if (result.ServerCpu is { } cpu)
        {
            var parts = new List<string>(cpu.Count);
            foreach (var process in cpu)
            {
                parts.Add(Invariant($"{process.Process} {process.CpuPercent:0.#} % = {process.MicrosPerDelivery:0.#} µs"));
            }

            _console.MarkupLineInterpolated($"  CPU per delivered copy: {string.Join(", ", parts)}");
        }

        if (result.BrokerRequests is { } requests)
        {
            var parts = new List<string>(requests.Count);
            foreach (var line in requests)
            {
                parts.Add(Invariant($"{line.Process} {line.RequestsPerSecond:0} ({line.Connections} conn.)"));
            }

            _console.MarkupLineInterpolated($"  broker requests/s: {string.Join(", ", parts)}");
        }

        if (result.HopsMs is { } hops)
        {
            var parts = new List<string>(hops.Count);
            foreach (var hop in hops)
            {
                parts.Add(Invariant($"{hop.Hop} p50 {hop.P50:0.0} / p99 {hop.P99:0.0}"));
            }

            _console.MarkupLineInterpolated($"  hops (ms): {string.Join(", ", parts)}");
        }

        if (result.Note is not null)
        {
            _console.MarkupLineInterpolated($"  [grey]{result.Note}[/]");
        }
    }

    private void PrintSummary(List<StepResult> steps)
    {
        var table = new Table().Title("results").AddColumns("offered/s", "sends/s", "deliveries/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "missing", "dup", "cpu% edge/router/proj/kafka/pg/gen");
        foreach (var step in steps)
        {
            table.AddRow(
                Invariant($"{step.OfferedRate:0}"),
                Invariant($"{step.SendsPerSecond:0}"),
                Invariant($"{step.DeliveriesPerSecond:0}"),
                Invariant($"{step.LatencyMs.P50:0.0}"),
                Invariant($"{step.LatencyMs.P95:0.0}"),
                Invariant($"{step.LatencyMs.P99:0.0}"),
                Invariant($"{step.LatencyMs.Max:0.0}"),
                Invariant($"{step.Missing}"),
                Invariant($"{step.Duplicates}"),
                Invariant($"{Cpu(step, "edge")}/{Cpu(step, "router")}/{Cpu(step, "projections")}/{Cpu(step, "kafka")}/{Cpu(step, "postgres")}/{step.GeneratorCpuPercent:0}"));
        }

        _console.Write(table);
    }

    private static string Cpu(StepResult step, string kind)
    {
        foreach (var process in step.Processes)
        {
            if (process.Kind == kind)
            {
                return Invariant($"{process.CpuPercent:0}");
            }
        }

        return "-";
    }

    private static string? Notes(TimeSpan maxLag, int closedConnections, DeliveryTracker tracker)
    {
        var notes = new List<string>();

        // A sender more than 100 ms behind its schedule means the generator itself was saturated.
        if (maxLag > TimeSpan.FromMilliseconds(100))
        {
            notes.Add(Invariant($"generator fell up to {maxLag.TotalMilliseconds:0} ms behind schedule"));
        }

        // Delivered receipts come back for every ack, receipts on or not: in groups of 1,024 each
        // frame can list every member, so their volume is part of what a run costs.
        if (tracker.ReceiptFrames > 0)
        {
            notes.Add(Invariant($"{tracker.ReceiptFrames} receipt frames ({tracker.ReceiptBytes / 1e6:0.0} MB) received so far"));
        }

        if (closedConnections > 0)
        {
            notes.Add(Invariant($"{closedConnections} connections closed by the server"));
        }

        if (tracker.RecentErrors.Count > 0)
        {
            notes.Add("recent errors: " + string.Join(" | ", tracker.RecentErrors));
        }

        return notes.Count == 0 ? null : string.Join("; ", notes);
    }

    private string UserPrefix() =>
        string.Create(CultureInfo.InvariantCulture, $"{_options.UserPrefix}{_startedAt.ToUnixTimeSeconds():x}");

    private static long PerChatCapacity(LoadPlan plan, double plannedMessages)
    {
        var slotsPerChat = 0;
        foreach (var chat in plan.Chats)
        {
            slotsPerChat = Math.Max(slotsPerChat, chat.Members.Count);
        }

        var perSlot = plannedMessages / Math.Max(1, plan.SendSlots.Count);
        return (long)(perSlot * slotsPerChat * CapacityHeadroom) + 1024;
    }

    private static int[] AllDevices(LoadPlan plan)
    {
        var all = new int[plan.Devices.Count];
        for (var i = 0; i < all.Length; i++)
        {
            all[i] = i;
        }

        return all;
    }

    private static double PerSecond(long count, TimeSpan elapsed) =>
        elapsed <= TimeSpan.Zero ? 0 : Math.Round(count / elapsed.TotalSeconds, 1);

    private static string Invariant(FormattableString text) => FormattableString.Invariant(text);

    private static HopLatency[]? HopSummaries(IReadOnlyList<LatencyHistogram> hops)
    {
        if (hops[0].TotalCount == 0)
        {
            return null;
        }

        var summaries = new HopLatency[hops.Count];
        for (var h = 0; h < hops.Count; h++)
        {
            summaries[h] = HopLatency.From(Hops.Names[h], hops[h]);
        }

        return summaries;
    }

    private sealed record SampledWindow(TimeSpan Elapsed, long DeliveredDelta, long AcceptedDelta, IReadOnlyList<ProcessUsage> Processes, IReadOnlyList<ServerCpu> ServerCpu, double GeneratorCpuPercent, IReadOnlyList<BrokerRequests>? BrokerRequests);
}
