using System.CommandLine;
using Messaging.Bench.Cli;
using Spectre.Console;

namespace Messaging.Bench.Components;

/// <summary>
/// <c>router</c> and <c>projections</c>: one service process against a backlog the bench writes
/// into a fresh topic prefix (and schema), measured from offsets and checkpoints, not sockets.
/// </summary>
public static class ComponentCommands
{
    private static readonly RouterBacklogPlan RouterDefaults = new();
    private static readonly EventBacklogPlan EventDefaults = new();

    public static Command Router()
    {
        var common = new CommonFlags("Router", TimeSpan.FromMinutes(10));
        var chats = CommonOptions.Positive("--chats", RouterDefaults.Chats, "group chats (one CreateChat each)");
        var groupSize = CommonOptions.Positive("--group-size", RouterDefaults.GroupSize, "members per group, creator included (consecutive users)");
        var users = CommonOptions.Positive("--users", RouterDefaults.Users, "users in the device directory");
        var devices = CommonOptions.Positive("--devices-per-user", RouterDefaults.DevicesPerUser, "devices registered per user");
        var online = new Option<int>("--online-devices") { Description = "devices per user online (spread over the nodes); the rest are offline", DefaultValueFactory = _ => RouterDefaults.OnlineDevicesPerUser };
        var nodes = CommonOptions.Positive("--edge-nodes", RouterDefaults.EdgeNodes, "Cluster:EdgeNodes: delivery.node-k topics the online devices are spread over");
        var sends = CommonOptions.Positive("--sends", RouterDefaults.Sends, "SendMessage commands after the CreateChats, round-robin over the chats");
        var bodyBytes = CommonOptions.Positive("--body-bytes", RouterDefaults.BodyBytes, "message body size");
        var group = new Option<string>("--router-group") { Description = "Router:GroupId whose committed offsets mark progress (prefixed like the Router does)", DefaultValueFactory = _ => "router" };
        var command = new Command("router", "Component benchmark: one Router process drains a pre-filled chat.commands; commands/s and delivery records/s")
        {
            chats, groupSize, users, devices, online, nodes, sends, bodyBytes, group,
        };
        common.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (!common.TryRead(parse, out var options))
            {
                return 2;
            }

            var plan = new RouterBacklogPlan
            {
                Chats = parse.GetValue(chats),
                GroupSize = parse.GetValue(groupSize),
                Users = parse.GetValue(users),
                DevicesPerUser = parse.GetValue(devices),
                OnlineDevicesPerUser = parse.GetValue(online),
                EdgeNodes = parse.GetValue(nodes),
                Sends = parse.GetValue(sends),
                BodyBytes = parse.GetValue(bodyBytes),
            };
            if (plan.Validate() is { } error)
            {
                AnsiConsole.MarkupLineInterpolated($"[red]{error}[/]");
                return 2;
            }

            return await new RouterBench(options, plan, parse.GetValue(group) ?? "router", AnsiConsole.Console).RunAsync(cancellationToken);
        });
        return command;
    }

    public static Command Projections()
    {
        var common = new CommonFlags("Projections", TimeSpan.FromMinutes(30));
        var events = new Option<long>("--events") { Description = "chat.events to pre-fill (ChatCreated, then MessageSent)", DefaultValueFactory = _ => EventDefaults.Events };
        var chats = CommonOptions.Positive("--chats", EventDefaults.Chats, "group chats the events are dealt over");
        var members = CommonOptions.Positive("--members", EventDefaults.Members, "members per group (e.g. 10 or 1024; use fewer --chats for large groups)");
        var devices = CommonOptions.Positive("--devices-per-member", EventDefaults.DevicesPerMember, "devices per member (recorded; chat.events v3 names no devices, the inbox writes nothing per device)");
        var bodyBytes = CommonOptions.Positive("--body-bytes", EventDefaults.BodyBytes, "message body size");
        var connection = new Option<string>("--pg")
        {
            Description = "PostgreSQL connection string (default: ConnectionStrings__Messaging, else the local stack's)",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("ConnectionStrings__Messaging") ?? ComponentOptions.LocalConnectionString,
        };
        var schema = new Option<string?>("--schema") { Description = "Postgres:Schema for the run (default: a fresh bench_<timestamp>); dropped at the end unless --keep-schema" };
        var keep = new Option<bool>("--keep-schema") { Description = "leave the schema (and its read models) for inspection" };
        var runners = new Option<string>("--runners") { Description = "Projections:Runners of the live process", DefaultValueFactory = _ => "inbox,chat,presence" };
        var rebuild = new Option<string>("--rebuild-projection") { Description = "rebuild --projection after the live phase: inbox, chat, presence, all, or none to skip", DefaultValueFactory = _ => "all" };
        rebuild.AcceptOnlyFromAmong("inbox", "chat", "presence", "all", "none");
        var baseline = new Option<string?>("--baseline-dll") { Description = "another build's Messaging.Projections.dll: each rebuild round runs it first, then --service-dll, over the same live tables (old and new in one run)" };
        var rounds = CommonOptions.Positive("--rebuild-rounds", 1, "rebuilds per build, alternating with the baseline when there is one");
        var command = new Command("projections", "Component benchmark: one Projections process applies a pre-filled chat.events live (events/s), then rebuild (events/s)")
        {
            events, chats, members, devices, bodyBytes, connection, schema, keep, runners, rebuild, baseline, rounds,
        };
        common.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (!common.TryRead(parse, out var options))
            {
                return 2;
            }

            var plan = new EventBacklogPlan
            {
                Events = parse.GetValue(events),
                Chats = parse.GetValue(chats),
                Members = parse.GetValue(members),
                DevicesPerMember = parse.GetValue(devices),
                BodyBytes = parse.GetValue(bodyBytes),
            };
            var schemaName = parse.GetValue(schema) ?? ComponentOptions.DefaultSchema(DateTimeOffset.UtcNow);
            if (plan.Validate() is { } error || !ComponentOptions.IsPlainIdentifier(schemaName))
            {
                AnsiConsole.MarkupLineInterpolated($"[red]{plan.Validate() ?? $"--schema '{schemaName}': lower-case letters, digits and underscores only"}[/]");
                return 2;
            }

            var settings = new ProjectionsBenchSettings(
                parse.GetValue(connection)!,
                schemaName,
                parse.GetValue(keep),
                parse.GetValue(runners) ?? "inbox,chat,presence",
                parse.GetValue(rebuild) ?? "all",
                parse.GetValue(baseline),
                parse.GetValue(rounds));
            return await new ProjectionsBench(options, plan, settings, AnsiConsole.Console).RunAsync(cancellationToken);
        });
        return command;
    }

    /// <summary>Flags both component commands take: broker, namespace, service assembly and settings, pacing, outputs.</summary>
    private sealed class CommonFlags
    {
        private readonly Option<string> _kafka = new("--kafka")
        {
            Description = "Kafka bootstrap servers (default: Kafka__BootstrapServers, else the local stack's)",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("Kafka__BootstrapServers") ?? ComponentOptions.LocalBootstrapServers,
        };

        private readonly Option<string> _profile = new("--kafka-profile")
        {
            Description = "Kafka:Profile for the bench and the service (default: Kafka__Profile, else Legacy09)",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("Kafka__Profile") ?? "Legacy09",
        };

        private readonly Option<string?> _prefix = new("--topic-prefix") { Description = "Kafka:TopicPrefix of the run (default: a fresh bench-<timestamp>.)" };
        private readonly Option<string?> _service;
        private readonly Option<string[]> _settings = new("--setting")
        {
            Description = "service configuration KEY=VALUE, repeatable (Router:MaxBatch=5000, Projections:BatchSize=5000)",
            Arity = ArgumentArity.ZeroOrMore,
            AllowMultipleArgumentsPerToken = false,
        };

        private readonly Option<string[]> _producer = new("--producer-setting")
        {
            Description = "librdkafka setting of the pre-fill producer, repeatable (linger.ms=50)",
            Arity = ArgumentArity.ZeroOrMore,
            AllowMultipleArgumentsPerToken = false,
        };

        private readonly Option<double> _poll = CommonOptions.Seconds("--poll-interval", 0.2, "how often progress is read while the service works");
        private readonly Option<double> _progress = CommonOptions.Seconds("--progress-interval", 2, "how often progress is printed");
        private readonly Option<double> _timeout;
        private readonly Option<string> _results = new("--results") { Description = "directory for the JSON-lines results", DefaultValueFactory = _ => Path.Combine("bench", "results") };

        public CommonFlags(string project, TimeSpan timeout)
        {
            _service = new Option<string?>("--service-dll") { Description = $"Messaging.{project}.dll to start (default: src/{project}/bin/Release/…, else Debug)" };
            _timeout = CommonOptions.Seconds("--timeout", timeout.TotalSeconds, "give up when the service has not finished by then");
        }

        public void AddTo(Command command)
        {
            foreach (var option in new Option[] { _kafka, _profile, _prefix, _service, _settings, _producer, _poll, _progress, _timeout, _results })
            {
                command.Options.Add(option);
            }
        }

        public bool TryRead(ParseResult parse, out ComponentOptions options)
        {
            options = null!;
            if (!ComponentOptions.TryParseSettings(parse.GetValue(_settings) ?? [], configurationKeys: true, out var settings, out var error)
                || !ComponentOptions.TryParseSettings(parse.GetValue(_producer) ?? [], configurationKeys: false, out var producer, out error))
            {
                AnsiConsole.MarkupLineInterpolated($"[red]{error}[/]");
                return false;
            }

            options = new ComponentOptions
            {
                BootstrapServers = parse.GetValue(_kafka)!,
                KafkaProfile = parse.GetValue(_profile)!,
                TopicPrefix = parse.GetValue(_prefix) ?? ComponentOptions.DefaultTopicPrefix(DateTimeOffset.UtcNow),
                ServicePath = parse.GetValue(_service),
                ServiceSettings = settings,
                ProducerSettings = producer,
                PollInterval = TimeSpan.FromSeconds(Math.Max(0.05, parse.GetValue(_poll))),
                ProgressInterval = TimeSpan.FromSeconds(Math.Max(0.5, parse.GetValue(_progress))),
                Timeout = TimeSpan.FromSeconds(parse.GetValue(_timeout)),
                ResultsDirectory = parse.GetValue(_results)!,
            };
            return true;
        }
    }
}
