using System.Diagnostics;
using Messaging.Bench.Results;
using Messaging.Contracts;
using Messaging.Contracts.Commands;
using Messaging.Contracts.Devices;
using Messaging.Contracts.Serialization;
using Spectre.Console;

namespace Messaging.Bench.Components;

/// <summary>
/// One Router process draining a pre-filled <c>chat.commands</c>: the device directory and the
/// backlog are written first, then the Router starts and the bench reads the group's committed
/// offsets until they reach the end of the topic.
/// </summary>
public sealed class RouterBench(ComponentOptions options, RouterBacklogPlan plan, string routerGroup, IAnsiConsole console)
{
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var routerDll = ServiceBinaries.Resolve(options.ServicePath, "Router", "Messaging.Router.dll", out var searched);
        if (routerDll is null)
        {
            console.MarkupLineInterpolated($"[red]no Router build found ({searched}): dotnet build src/Router -c Release[/]");
            return 1;
        }

        var startedAt = DateTimeOffset.UtcNow;
        var target = KafkaTarget.Create(options.BootstrapServers, options.KafkaProfile, options.TopicPrefix);
        var topics = target.Topics;
        var log = ResultLog.ForRun(options.ResultsDirectory, "router", startedAt);
        console.MarkupLineInterpolated($"[bold]router[/]: {plan.Chats:N0} groups of {plan.GroupSize}, {plan.Users:N0} users × {plan.DevicesPerUser} devices ({plan.OnlineDevicesPerUser} online over {plan.EdgeNodes} nodes), {plan.Sends:N0} sends; prefix [blue]{topics.Prefix}[/], results to [blue]{log.Path}[/]");
        if (ServiceBinaries.IsDebugBuild(routerDll))
        {
            console.MarkupLineInterpolated($"[yellow]{routerDll} is a Debug build: the numbers are not representative (dotnet build src/Router -c Release)[/]");
        }

        await target.EnsureTopicsAsync(plan.EdgeNodes, cancellationToken);
        var prefillClock = Stopwatch.StartNew();
        Prefill(target, cancellationToken);
        prefillClock.Stop();
        var prefillRecords = plan.Users + ((long)plan.Users * plan.DevicesPerUser) + plan.Commands;

        var commandPartitions = target.Partitions(topics.ChatCommands);
        var deliveryPartitions = Enumerable.Range(0, plan.EdgeNodes).SelectMany(k => target.Partitions(topics.DeliveryNode(k))).ToList();
        using var probe = new OffsetProbe(target.CreateProbe(topics.Prefix + routerGroup));
        var total = probe.Count(commandPartitions);
        var expectedDeliveries = plan.ExpectedDeliveryRecords();

        var environment = target.ServiceEnvironment();
        environment["Cluster__EdgeNodes"] = plan.EdgeNodes.ToString(System.Globalization.CultureInfo.InvariantCulture);
        environment["Urls"] = "http://127.0.0.1:0";
        foreach (var (key, value) in options.ServiceSettings)
        {
            environment[key] = value;
        }

        console.MarkupLineInterpolated($"starting [blue]{routerDll}[/]; waiting for {total:N0} commands to be committed");
        await using var router = ServiceProcess.Start(routerDll, [], environment);
        var usage = new UsageWindow(router.Id, "router");
        var clock = Stopwatch.StartNew();
        TimeSpan? firstAt = null;
        long firstCommitted = 0;
        long firstDeliveries = 0;
        var nextProgress = options.ProgressInterval;
        long committed;
        while (true)
        {
            await Task.Delay(options.PollInterval, cancellationToken);
            if (router.HasExited)
            {
                console.MarkupLineInterpolated($"[red]the Router exited with code {router.ExitCode}:[/]");
                console.WriteLine(router.OutputTail);
                return 1;
            }

            committed = probe.Committed(commandPartitions);
            if (firstAt is null && committed > 0)
            {
                // The window starts at the first commit: start-up, the directory catch-up and
                // partition assignment are reported separately as startupSeconds.
                firstAt = clock.Elapsed;
                firstCommitted = committed;
                firstDeliveries = probe.Count(deliveryPartitions);
                usage.Start();
            }

            usage.Observe();
            if (committed >= total)
            {
                break;
            }

            if (clock.Elapsed >= nextProgress)
            {
                var rate = firstAt is { } f && clock.Elapsed > f ? (committed - firstCommitted) / (clock.Elapsed - f).TotalSeconds : 0;
                console.MarkupLineInterpolated($"  {clock.Elapsed.TotalSeconds,6:0.0} s: {committed:N0}/{total:N0} commands committed ({100.0 * committed / Math.Max(total, 1):0} %, {rate:N0}/s)");
                nextProgress = clock.Elapsed + options.ProgressInterval;
            }

            if (clock.Elapsed > options.Timeout)
            {
                console.MarkupLineInterpolated($"[red]timed out after {options.Timeout.TotalSeconds:0} s with {committed:N0}/{total:N0} commands committed; Router output:[/]");
                console.WriteLine(router.OutputTail);
                return 1;
            }
        }

        var end = clock.Elapsed;
        var used = usage.Finish();
        var deliveries = probe.Count(deliveryPartitions);
        var events = probe.Count(target.Partitions(topics.ChatEvents));
        await router.StopAsync();

        // A backlog small enough to finish before the first poll saw a commit has no inner window:
        // fall back to the whole run from process start.
        var whole = firstAt is null || firstCommitted >= total;
        var seconds = whole ? end.TotalSeconds : (end - firstAt!.Value).TotalSeconds;
        var commands = whole ? total : total - firstCommitted;
        var windowDeliveries = whole ? deliveries : deliveries - firstDeliveries;
        var notes = new List<string>();
        if (whole)
        {
            notes.Add("the backlog was done at the first poll: the window is the whole run from process start");
        }

        if (deliveries != expectedDeliveries)
        {
            notes.Add($"delivery records {deliveries} differ from the expected {expectedDeliveries}");
        }

        if (events != total)
        {
            notes.Add($"chat.events holds {events} records for {total} commands");
        }

        var result = new ComponentResult
        {
            RunId = Path.GetFileNameWithoutExtension(log.Path),
            At = startedAt,
            Component = "router",
            Phase = "drain",
            TopicPrefix = topics.Prefix,
            Service = routerDll,
            Settings = [.. options.ServiceSettings.Select(kv => kv.Key + "=" + kv.Value)],
            Chats = plan.Chats,
            GroupSize = plan.GroupSize,
            BodyBytes = plan.BodyBytes,
            Users = plan.Users,
            DevicesPerUser = plan.DevicesPerUser,
            OnlineDevicesPerUser = plan.OnlineDevicesPerUser,
            EdgeNodes = plan.EdgeNodes,
            PrefillRecords = prefillRecords,
            PrefillSeconds = Math.Round(prefillClock.Elapsed.TotalSeconds, 2),
            StartupSeconds = Math.Round((firstAt ?? end).TotalSeconds, 2),
            Seconds = Math.Round(seconds, 3),
            Commands = commands,
            CommandsPerSecond = Rates.PerSecond(commands, seconds),
            DeliveryRecords = windowDeliveries,
            ExpectedDeliveryRecords = expectedDeliveries,
            DeliveryRecordsPerSecond = Rates.PerSecond(windowDeliveries, seconds),
            Events = events,
            ServiceCpuPercent = used.CpuPercent,
            ServiceRssMiB = used.RssMiB,
            ServicePeakRssMiB = used.PeakRssMiB,
            Processes = used.Infrastructure,
            GeneratorCpuPercent = used.GeneratorCpuPercent,
            Machine = MachineInfo.Current(),
            Note = notes.Count == 0 ? null : string.Join("; ", notes),
        };
        await log.AppendAsync(result, cancellationToken);
        console.MarkupLineInterpolated($"[bold]router[/]: {commands:N0} commands in {seconds:0.00} s = [green]{result.CommandsPerSecond:N0} commands/s[/], {windowDeliveries:N0} delivery records = [green]{result.DeliveryRecordsPerSecond:N0}/s[/] (expected {expectedDeliveries:N0} in all, got {deliveries:N0}); Router CPU {used.CpuPercent:0} %, RSS {used.RssMiB:0} MiB (peak {used.PeakRssMiB:0}); start-up {result.StartupSeconds:0.0} s");
        if (result.Note is not null)
        {
            console.MarkupLineInterpolated($"  [yellow]{result.Note}[/]");
        }

        return deliveries == expectedDeliveries && events == total ? 0 : 1;
    }

    /// <summary>Directory first (the Router reads it to its end before deciding), then the groups, then the sends.</summary>
    private void Prefill(KafkaTarget target, CancellationToken cancellationToken)
    {
        var topics = target.Topics;
        var now = DateTimeOffset.UtcNow;
        var body = new string('x', plan.BodyBytes);
        using var producer = new BacklogProducer(target, Merge(BacklogProducer.DefaultSettings, options.ProducerSettings), console, options.ProgressInterval);
        producer.ProduceAll("user.devices", plan.Users, i =>
        {
            var user = (int)i;
            var record = new UserDevicesChanged
            {
                UserId = RouterBacklogPlan.UserId(user),
                DeviceIds = [.. Enumerable.Range(0, plan.DevicesPerUser).Select(d => RouterBacklogPlan.DeviceId(user, d))],
                ChangedAt = now,
            };
            return (topics.UserDevices, record.UserId, Codecs.Devices.Encode(record));
        }, cancellationToken);
        producer.ProduceAll("device.sessions", (long)plan.Users * plan.DevicesPerUser, i =>
        {
            var user = (int)(i / plan.DevicesPerUser);
            var device = (int)(i % plan.DevicesPerUser);
            var record = new DeviceSessionChanged
            {
                DeviceId = RouterBacklogPlan.DeviceId(user, device),
                UserId = RouterBacklogPlan.UserId(user),
                Node = plan.NodeOf(user, device),
                SessionId = "bench-" + RouterBacklogPlan.DeviceId(user, device),
                ChangedAt = now,
            };
            return (topics.DeviceSessions, DeviceRef.AddressOf(record.UserId, record.DeviceId), Codecs.Devices.Encode(record));
        }, cancellationToken);

        // Every CreateChat is acknowledged before the first send is produced, so no send can
        // overtake its chat's creation whatever the producer's in-flight setting.
        producer.ProduceAll("CreateChat", plan.Chats, i =>
        {
            var chat = (int)i;
            var creator = plan.Member(chat, 0);
            ChatCommand command = new CreateChat
            {
                CommandId = "bench-create-" + RouterBacklogPlan.ChatId(chat),
                ChatId = RouterBacklogPlan.ChatId(chat),
                Origin = new DeviceRef(RouterBacklogPlan.UserId(creator), RouterBacklogPlan.DeviceId(creator, 0)),
                OriginNode = 0,
                IssuedAt = now,
                Title = "bench " + RouterBacklogPlan.ChatId(chat),
                Members = [.. Enumerable.Range(1, plan.GroupSize - 1).Select(m => RouterBacklogPlan.UserId(plan.Member(chat, m)))],
            };
            return (topics.ChatCommands, command.ChatId, Codecs.Commands.Encode(command));
        }, cancellationToken);
        producer.ProduceAll("SendMessage", plan.Sends, i =>
        {
            var (chat, sender) = plan.Send(i);
            var user = plan.Member(chat, sender);
            var id = i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            ChatCommand command = new SendMessage
            {
                CommandId = "bench-send-" + id,
                ChatId = RouterBacklogPlan.ChatId(chat),
                Origin = new DeviceRef(RouterBacklogPlan.UserId(user), RouterBacklogPlan.DeviceId(user, 0)),
                OriginNode = plan.NodeOf(user, 0) ?? 0,
                IssuedAt = now,
                ClientMsgId = "c" + id,
                MessageId = Guid.CreateVersion7().ToString(),
                Body = body,
            };
            return (topics.ChatCommands, command.ChatId, Codecs.Commands.Encode(command));
        }, cancellationToken);
    }

    internal static Dictionary<string, string> Merge(IReadOnlyDictionary<string, string> defaults, IReadOnlyDictionary<string, string> overrides)
    {
        var merged = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in defaults)
        {
            merged[key] = value;
        }

        foreach (var (key, value) in overrides)
        {
            merged[key] = value;
        }

        return merged;
    }
}

/// <summary>Rates as they go into the results: per second, rounded, 0 for an empty window.</summary>
public static class Rates
{
    public static double PerSecond(long count, double seconds) => seconds <= 0 ? 0 : Math.Round(count / seconds, 1);
}
