using System.CommandLine;
using Messaging.Bench.Cli;
using Spectre.Console;

namespace Messaging.Bench.Load;

public static class RunCommand
{
    private static readonly LoadOptions Defaults = new() { Edges = [] };

    public static Command Create()
    {
        var edges = CommonOptions.Edges();
        var scenario = new Option<string>("--scenario")
        {
            Description = "group-fanout | direct | offline-catchup | connect",
            DefaultValueFactory = _ => "group-fanout",
        }.AcceptOnlyFromAmong("group-fanout", "direct", "offline-catchup", "connect");
        var rates = new Option<double[]>("--rates")
        {
            Description = "offered send rates in messages/s, one step each, e.g. 250,500,1000,2000,4000,8000 (offline-catchup sends at the first)",
            DefaultValueFactory = _ => [.. Defaults.Rates],
            CustomParser = result =>
            {
                var text = string.Join(',', result.Tokens.Select(t => t.Value));
                if (!CommonOptions.TryParseRates(text, out var parsed, out var error))
                {
                    result.AddError(error!);
                }

                return parsed;
            },
        };
        var users = CommonOptions.Positive("--users", Defaults.Users, "devices to connect (one user each), spread round-robin over the Edge nodes");
        var groupSize = CommonOptions.Positive("--group-size", Defaults.GroupSize, "members (users) per group (group-fanout, offline-catchup)");
        var devicesPerUser = CommonOptions.Positive("--devices-per-user", Defaults.DevicesPerUser, "devices of each user, all in the user's groups (--users × this sockets); not with direct");
        var warmup = CommonOptions.Seconds("--warmup", Defaults.Warmup.TotalSeconds, "unmeasured sending at the step's rate before each step");
        var firstWarmup = CommonOptions.OptionalSeconds("--first-warmup", "unmeasured sending before the first step instead of --warmup: freshly started services compile for their first minutes");
        var duration = CommonOptions.Seconds("--duration", Defaults.Duration.TotalSeconds, "measured sending per step");
        var drain = CommonOptions.Seconds("--drain", Defaults.Drain.TotalSeconds, "wait after sending for late deliveries before counting the rest as missing");
        var settle = CommonOptions.Seconds("--settle", Defaults.Settle.TotalSeconds, "pause for device registration to propagate (after connecting, after going offline, before catch-up)");
        var setupTimeout = CommonOptions.Seconds("--setup-timeout", Defaults.SetupTimeout.TotalSeconds, "limit for set-up (tokens, connections, chats, probe) and for offline catch-up");
        var bodyBytes = CommonOptions.Positive("--body-bytes", Defaults.BodyBytes, "message body size");
        var concurrency = CommonOptions.Positive("--connect-concurrency", Defaults.ConnectConcurrency, "token requests and connections opened in parallel");
        var ackInterval = CommonOptions.Seconds("--ack-interval", Defaults.AckInterval.TotalSeconds, "how often each device acks the highest seq per chat");
        var client = new Option<string>("--client") { Description = "the devices' sockets: polled (one epoll thread reads them all; ws:// on Linux x64) or clientwebsocket (the runtime's, a loop per socket)", DefaultValueFactory = _ => "polled" };
        client.AcceptOnlyFromAmong("polled", "clientwebsocket");
        var pollers = CommonOptions.Positive("--pollers", Defaults.Pollers, "with --client polled: threads polling the sockets, each a share of them (default: one per core)");
        var receipts = new Option<bool>("--receipts") { Description = "every device also sends read for what it acks (receipts on; docs/benchmarks.md)" };
        var maxP99 = CommonOptions.Seconds("--max-p99", Defaults.MaxP99.TotalSeconds, "stop stepping once a step's p99 exceeds this");
        var offlineMessages = CommonOptions.Positive("--offline-messages", Defaults.OfflineMessages, "offline-catchup: messages sent to each group while its members are offline");
        var memberSenders = new Option<bool>("--member-senders") { Description = "offline-catchup: the first member of each group sends and stays online (default: a sender user per group, every --users device offline)" };
        var resultsDirectory = new Option<string>("--results") { Description = "directory for the JSON-lines results", DefaultValueFactory = _ => Defaults.ResultsDirectory };
        var userPrefix = new Option<string>("--user-prefix") { Description = "prefix of this run's user ids (with the start time): two generators run side by side need different ones", DefaultValueFactory = _ => Defaults.UserPrefix };
        var servicePids = new Option<string>("--service-pids") { Description = "directory of make run's service pid files (<name>.pid): CPU per process is measured for these", DefaultValueFactory = _ => Defaults.ServicePidsDirectory };
        var chart = new Option<string>("--chart") { Description = "SVG chart of the sweep: 'results' = beside the results file (bench/results/<runId>.svg), a path, or empty for none", DefaultValueFactory = _ => Defaults.ChartPath };
        var command = new Command("run", "Open-loop load through the real Edge nodes: one JSON line per step, a chart of the sweep")
        {
            edges, scenario, rates, users, groupSize, devicesPerUser, warmup, firstWarmup, duration, drain, settle, setupTimeout, bodyBytes, concurrency, client, pollers, ackInterval, receipts, maxP99, offlineMessages, memberSenders, resultsDirectory, chart, servicePids, userPrefix,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var options = new LoadOptions
            {
                Edges = CommonOptions.ParseEdges(parse.GetValue(edges)),
                Scenario = ParseScenario(parse.GetValue(scenario)),
                Rates = parse.GetValue(rates) ?? Defaults.Rates,
                Users = parse.GetValue(users),
                GroupSize = parse.GetValue(groupSize),
                DevicesPerUser = parse.GetValue(devicesPerUser),
                Warmup = TimeSpan.FromSeconds(parse.GetValue(warmup)),
                FirstWarmup = parse.GetValue(firstWarmup) is { } first ? TimeSpan.FromSeconds(first) : null,
                Duration = TimeSpan.FromSeconds(parse.GetValue(duration)),
                Drain = TimeSpan.FromSeconds(parse.GetValue(drain)),
                Settle = TimeSpan.FromSeconds(parse.GetValue(settle)),
                SetupTimeout = TimeSpan.FromSeconds(parse.GetValue(setupTimeout)),
                BodyBytes = parse.GetValue(bodyBytes),
                ConnectConcurrency = parse.GetValue(concurrency),
                Client = parse.GetValue(client) == "clientwebsocket" ? ClientSockets.ClientWebSocket : ClientSockets.Polled,
                Pollers = parse.GetValue(pollers),
                AckInterval = TimeSpan.FromSeconds(Math.Max(0.01, parse.GetValue(ackInterval))),
                Receipts = parse.GetValue(receipts),
                MaxP99 = TimeSpan.FromSeconds(parse.GetValue(maxP99)),
                OfflineMessages = parse.GetValue(offlineMessages),
                MemberSenders = parse.GetValue(memberSenders),
                ResultsDirectory = parse.GetValue(resultsDirectory) ?? Defaults.ResultsDirectory,
                ChartPath = parse.GetValue(chart) ?? string.Empty,
                ServicePidsDirectory = parse.GetValue(servicePids) ?? Defaults.ServicePidsDirectory,
                UserPrefix = parse.GetValue(userPrefix) ?? Defaults.UserPrefix,
            };
            return await new LoadRunner(options, AnsiConsole.Console).RunAsync(cancellationToken);
        });
        return command;
    }

    private static Scenario ParseScenario(string? name) => name switch
    {
        "direct" => Scenario.Direct,
        "offline-catchup" => Scenario.OfflineCatchup,
        "connect" => Scenario.Connect,
        _ => Scenario.GroupFanout,
    };
}
