using System.CommandLine;
using JasperFx.Events;
using JasperFx.Events.Projections;
using Messaging.Bench.Cli;
using Messaging.Bench.Components;
using Spectre.Console;

namespace Messaging.Bench.Marten;

/// <summary><c>bench marten</c>: the Marten side of the read-side evaluation (make bench-marten, docs/benchmarks.md).</summary>
public static class MartenCommand
{
    private static readonly EventBacklogPlan Defaults = new();

    public static Command Create()
    {
        var events = new Option<long>("--events") { Description = "chat.events to pre-fill (ChatCreated, then MessageSent)", DefaultValueFactory = _ => Defaults.Events };
        var chats = CommonOptions.Positive("--chats", Defaults.Chats, "group chats the events are dealt over");
        var recipients = CommonOptions.Positive("--recipients", Defaults.Members, "members (one device each) per group");
        var bodyBytes = CommonOptions.Positive("--body-bytes", Defaults.BodyBytes, "message body size");
        var kafka = new Option<string>("--kafka") { Description = "Kafka bootstrap servers", DefaultValueFactory = _ => Environment.GetEnvironmentVariable("Kafka__BootstrapServers") ?? ComponentOptions.LocalBootstrapServers };
        var profile = new Option<string>("--kafka-profile") { Description = "Kafka:Profile", DefaultValueFactory = _ => Environment.GetEnvironmentVariable("Kafka__Profile") ?? "Legacy09" };
        var prefix = new Option<string?>("--topic-prefix") { Description = "Kafka:TopicPrefix (default: a fresh bench-<timestamp>.)" };
        var reuse = new Option<bool>("--reuse-backlog") { Description = "do not pre-fill: copy the chat.events already under --topic-prefix (repeat a measurement on the same log)" };
        var connection = new Option<string>("--pg") { Description = "PostgreSQL connection string", DefaultValueFactory = _ => Environment.GetEnvironmentVariable("ConnectionStrings__Messaging") ?? ComponentOptions.LocalConnectionString };
        var schema = new Option<string?>("--schema") { Description = "Marten schema of the run (default: a fresh marten_<timestamp>); dropped at the end unless --keep-schema" };
        var keep = new Option<bool>("--keep-schema") { Description = "leave the schema for inspection" };
        var append = new Option<EventAppendMode>("--append-mode") { Description = "Marten's event append mode", DefaultValueFactory = _ => EventAppendMode.Quick };
        var lifecycle = new Option<string>("--chat-projection") { Description = "chat projection lifecycle: inline, async or none", DefaultValueFactory = _ => "inline" };
        lifecycle.AcceptOnlyFromAmong("inline", "async", "none");
        var model = new Option<ChatModel>("--chat-model") { Description = "chat model as one document per chat (Document) or flat tables fed by QueueSqlCommand (Table)", DefaultValueFactory = _ => ChatModel.Document };
        var history = new Option<HistoryStore>("--history") { Description = "history in the chat streams (Events) or a QueueSqlCommand table (Table)", DefaultValueFactory = _ => HistoryStore.Events };
        var page = CommonOptions.Positive("--page-size", 5000, "Kafka records per SaveChangesAsync (one transaction with their offsets)");
        var daemonBatch = CommonOptions.Positive("--daemon-batch", 500, "events per daemon batch (async projection, rebuild)");
        var bulkCopy = new Option<bool>("--bulk-copy") { Description = "rebuild with COPY (Marten's RebuildWithBulkCopy)" };
        var noIdentityMap = new Option<bool>("--no-identity-map") { Description = "turn off Marten's identity map for aggregates in inline projections" };
        var skipRebuild = new Option<bool>("--no-rebuild") { Description = "skip the rebuild phase" };
        var timeout = CommonOptions.Seconds("--timeout", 1800, "give up after this long");
        var results = new Option<string>("--results") { Description = "directory for the JSON-lines results", DefaultValueFactory = _ => Path.Combine("bench", "results") };
        var command = new Command("marten", "Component benchmark: the chat model on Marten 9 (streams per chat, version = seq) ingesting a pre-filled chat.events, then its daemon rebuild")
        {
            events, chats, recipients, bodyBytes, kafka, profile, prefix, reuse, connection, schema, keep, append, lifecycle, model, history, page, daemonBatch, bulkCopy, noIdentityMap, skipRebuild, timeout, results,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var plan = new EventBacklogPlan
            {
                Events = parse.GetValue(events),
                Chats = parse.GetValue(chats),
                Members = parse.GetValue(recipients),
                BodyBytes = parse.GetValue(bodyBytes),
            };
            var now = DateTimeOffset.UtcNow;
            var schemaName = parse.GetValue(schema) ?? "marten_" + ComponentOptions.DefaultSchema(now)["bench_".Length..];
            if (plan.Validate() is { } error || !ComponentOptions.IsPlainIdentifier(schemaName))
            {
                AnsiConsole.MarkupLineInterpolated($"[red]{plan.Validate() ?? $"--schema '{schemaName}': lower-case letters, digits and underscores only"}[/]");
                return 2;
            }

            if (parse.GetValue(reuse) && parse.GetValue(prefix) is null)
            {
                AnsiConsole.MarkupLine("[red]--reuse-backlog needs the --topic-prefix of an earlier run[/]");
                return 2;
            }

            var options = new ComponentOptions
            {
                BootstrapServers = parse.GetValue(kafka)!,
                KafkaProfile = parse.GetValue(profile)!,
                TopicPrefix = parse.GetValue(prefix) ?? ComponentOptions.DefaultTopicPrefix(now),
                Timeout = TimeSpan.FromSeconds(parse.GetValue(timeout)),
                ResultsDirectory = parse.GetValue(results)!,
            };
            var settings = new MartenChatSettings
            {
                ConnectionString = parse.GetValue(connection)!,
                Schema = schemaName,
                AppendMode = parse.GetValue(append),
                ChatLifecycle = parse.GetValue(lifecycle) switch
                {
                    "async" => ProjectionLifecycle.Async,
                    "none" => null,
                    _ => ProjectionLifecycle.Inline,
                },
                Chat = parse.GetValue(model),
                History = parse.GetValue(history),
                DaemonBatchSize = parse.GetValue(daemonBatch),
                RebuildWithBulkCopy = parse.GetValue(bulkCopy),
                UseIdentityMapForAggregates = !parse.GetValue(noIdentityMap),
            };
            var bench = new MartenBench(options, plan, settings, parse.GetValue(page), prefill: !parse.GetValue(reuse), parse.GetValue(keep), rebuild: !parse.GetValue(skipRebuild), AnsiConsole.Console);
            return await bench.RunAsync(cancellationToken);
        });
        return command;
    }
}
