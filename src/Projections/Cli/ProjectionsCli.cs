using System.CommandLine;
using Messaging.Hosting;
using Messaging.Hosting.Cli;
using Messaging.Hosting.Postgres;
using Messaging.Projections.Analytics;
using Messaging.Projections.Archive;
using Messaging.Projections.DeadLetters;
using Messaging.Projections.Rebuild;
using Messaging.ReadModels.Schema;
using Spectre.Console;

namespace Messaging.Projections.Cli;

/// <summary>
/// Operator commands (<c>migrate</c>, <c>rebuild</c>, <c>deadletters</c>), built on the same
/// configuration sources as the service: appsettings.json, appsettings.{Environment}.json,
/// environment variables.
/// </summary>
public static class ProjectionsCli
{
    private static readonly string[] Commands = ["migrate", "rebuild", "deadletters", "analytics"];

    /// <summary>What a dry run prints per projection, so nobody has to infer it from the absence of phases.</summary>
    internal const string DryRunDone = "dry run, nothing changed (no tables, rows or checkpoints written)";

    public static bool Handles(string[] args) => args.Length > 0 && Array.IndexOf(Commands, args[0]) >= 0;

    public static async Task<int> RunAsync(string[] args, IDictionary<string, string?>? settings = null, IAnsiConsole? console = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = [],
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentName = Environment.GetEnvironmentVariable("ASPNETCORE_ENVIRONMENT")
                ?? Environment.GetEnvironmentVariable("DOTNET_ENVIRONMENT") ?? Environments.Production,
        });
        if (settings is not null)
        {
            // Tests run the CLI in-process against their own namespace.
            builder.Configuration.Sources.Clear();
            builder.Configuration.AddInMemoryCollection(settings);
        }

        // Operators read the CLI's own output; framework logs would interleave with the progress table.
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.AddServiceDefaults();
        builder.AddMessagingPostgres();
        builder.AddProjectionsCore();
        using var host = builder.Build();
        var output = console ?? PlainConsole.Create();
        return await Root(host.Services, output).Parse(args).InvokeAsync();
    }

    /// <summary><c>analytics</c>: copies the archive's recorded files down, then runs the example queries (or <c>--sql</c>) with DuckDB.</summary>
    private static Command AnalyticsCommand(IServiceProvider services, IAnsiConsole console)
    {
        var dir = new Option<string>("--dir") { Description = "Local directory for the archive's Parquet files.", DefaultValueFactory = _ => Path.Combine(".local", "analytics") };
        var noDownload = new Option<bool>("--no-download") { Description = "Query the files already in --dir." };
        var sql = new Option<string?>("--sql") { Description = "Run this query instead of the examples (views: events, chats, archived, acks)." };
        var analytics = new Command("analytics", "Query the chat.events archive with DuckDB (docs/analytics.md).") { dir, noDownload, sql };
        analytics.SetAction(async (parse, ct) =>
        {
            var directory = Path.GetFullPath(parse.GetValue(dir)!);
            var store = services.GetRequiredService<ArchiveStore>();
            if (!parse.GetValue(noDownload))
            {
                var started = System.Diagnostics.Stopwatch.GetTimestamp();
                var paths = await store.DownloadAsync(directory, ct);
                var acks = await store.Acks.DownloadAsync(directory, ct);
                console.MarkupLineInterpolated($"[grey]{paths.Count} chat.events and {acks.Count} device.acks archive file(s) in {directory} ({System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds:0.0} s)[/]");
            }

            var events = Path.Combine(directory, store.Prefix);
            if (!Directory.Exists(events) || Directory.GetFiles(events, "*.parquet", SearchOption.AllDirectories).Length == 0)
            {
                console.MarkupLineInterpolated($"[red]No archive files in {directory}: is the archiver on (Archive:Enabled, docs/operations.md \"Archive\") and has it closed a file yet (Archive:MaxFileAgeSeconds)?[/]");
                return 1;
            }

            var text = parse.GetValue(sql);
            var results = await ArchiveQueries.RunAsync(events, Path.Combine(directory, store.Acks.Prefix), text is null ? null : [("query", text, text)], ct);
            foreach (var result in results)
            {
                var table = new Table { Title = new TableTitle(Markup.Escape(result.Description)) };
                foreach (var column in result.Columns)
                {
                    table.AddColumn(Markup.Escape(column));
                }

                foreach (var row in result.Rows)
                {
                    table.AddRow([.. row.Select(v => Markup.Escape(ArchiveQueries.Format(v)))]);
                }

                console.Write(table);
            }

            return 0;
        });
        return analytics;
    }

    private static RootCommand Root(IServiceProvider services, IAnsiConsole console)
    {
        var root = new RootCommand("Messaging.Projections operator commands");

        var migrate = new Command("migrate", "Apply the embedded schema migrations and exit.");
        migrate.SetAction(async (_, ct) =>
        {
            var applied = await services.GetRequiredService<MigrationRunner>().MigrateAsync(ct);
            console.MarkupLineInterpolated($"Applied {applied} migration(s).");
            return 0;
        });
        root.Subcommands.Add(migrate);

        var projectionOption = new Option<string>("--projection") { Description = "inbox, chat, presence or all", Required = true };
        projectionOption.AcceptOnlyFromAmong([.. ProjectionsOptions.Known, "all"]);
        var dryRun = new Option<bool>("--dry-run") { Description = "Print the plan (per partition: earliest, end, records) and stop." };
        var chat = new Option<string?>("--chat") { Description = "Rebuild one chat's rows only (chat projection)." };
        var fromArchive = new Option<bool>("--from-archive") { Description = "Read chat.events from the S3 archive up to its manifests, then Kafka from there (past the topic's retention)." };
        var rebuild = new Command("rebuild", "Replay topics into fresh shadow tables, then swap them in atomically.") { projectionOption, dryRun, chat, fromArchive };
        rebuild.SetAction(async (parse, ct) =>
        {
            var name = parse.GetValue(projectionOption)!;
            var names = name == "all" ? ProjectionsOptions.Known : [name];
            var chatId = parse.GetValue(chat);
            var runner = services.GetRequiredService<RebuildRunner>();
            var rebuildOptions = services.GetRequiredService<Microsoft.Extensions.Options.IOptions<RebuildOptions>>().Value;
            var planOnly = parse.GetValue(dryRun);
            if (!planOnly)
            {
                // A dry run writes nothing, not even a pending migration: it reads watermarks and
                // checkpoints only (and works before the schema exists).
                await services.GetRequiredService<MigrationRunner>().MigrateAsync(ct);
            }

            foreach (var n in names)
            {
                var projection = ProjectionsExtensions.Projection(services, n);
                if (chatId is not null && projection.DeleteChatSql is null)
                {
                    console.MarkupLineInterpolated($"[grey]{n}: no per-chat rows, skipped[/]");
                    continue;
                }

                var progress = new ConsoleRebuildProgress(console, TimeSpan.FromMilliseconds(rebuildOptions.ProgressIntervalMs));
                try
                {
                    if (chatId is not null)
                    {
                        var count = await runner.RebuildChatAsync(projection, chatId, planOnly, progress, ct, parse.GetValue(fromArchive));
                        if (planOnly)
                        {
                            console.MarkupLineInterpolated($"{n}: {DryRunDone}");
                        }
                        else
                        {
                            console.MarkupLineInterpolated($"{n}: chat {chatId} rebuilt from {count} events");
                        }

                        continue;
                    }

                    var result = await runner.RunAsync(projection, planOnly, progress, ct, parse.GetValue(fromArchive));
                    if (result == RebuildResult.AlreadyRunning)
                    {
                        console.MarkupLineInterpolated($"[red]{n}: a rebuild of this projection is already running[/]");
                        return 2;
                    }

                    if (result == RebuildResult.PlannedOnly)
                    {
                        console.MarkupLineInterpolated($"{n}: {DryRunDone}");
                    }
                }
                finally
                {
                    progress.Finish();
                }
            }

            return 0;
        });
        root.Subcommands.Add(rebuild);

        var all = new Option<bool>("--all") { Description = "Include letters already retried." };
        var list = new Command("list", "List parked records.") { all };
        list.SetAction(async (parse, ct) =>
        {
            var letters = await services.GetRequiredService<DeadLetterStore>().ListAsync(parse.GetValue(all), null, ct);
            var table = new Table().AddColumns("id", "projection", "topic", "partition", "offset", "type", "error", "created", "retried");
            foreach (var l in letters)
            {
                table.AddRow(
                    Markup.Escape(l.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)), Markup.Escape(l.Projection), Markup.Escape(l.Topic),
                    Markup.Escape(l.Partition.ToString(System.Globalization.CultureInfo.InvariantCulture)), Markup.Escape(l.Offset.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                    Markup.Escape(l.Type ?? ""), Markup.Escape(l.Error.Length > 80 ? l.Error[..80] + "…" : l.Error), Markup.Escape(l.CreatedAt.ToString("u", System.Globalization.CultureInfo.InvariantCulture)),
                    Markup.Escape(l.RetriedAt?.ToString("u", System.Globalization.CultureInfo.InvariantCulture) ?? ""));
            }

            console.Write(table);
            console.MarkupLineInterpolated($"{letters.Count} dead letter(s)");
            return 0;
        });
        var id = new Option<long?>("--id") { Description = "Retry only this letter." };
        var retry = new Command("retry", "Re-apply parked records (all not yet retried, or one).") { id };
        retry.SetAction(async (parse, ct) =>
        {
            var results = await services.GetRequiredService<DeadLetterStore>().RetryAsync(parse.GetValue(id), ct);
            var failed = 0;
            foreach (var r in results)
            {
                if (r.Applied)
                {
                    console.MarkupLineInterpolated($"{r.Id}: applied");
                }
                else
                {
                    failed++;
                    console.MarkupLineInterpolated($"[red]{r.Id}: {r.Error}[/]");
                }
            }

            console.MarkupLineInterpolated($"{results.Count - failed} applied, {failed} still failing");
            return failed == 0 ? 0 : 1;
        });
        var deadletters = new Command("deadletters", "Inspect and retry records the projections parked.") { list, retry };
        root.Subcommands.Add(deadletters);
        root.Subcommands.Add(AnalyticsCommand(services, console));
        return root;
    }
}
