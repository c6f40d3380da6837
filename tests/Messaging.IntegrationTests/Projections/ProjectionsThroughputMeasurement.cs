using System.Diagnostics;
using Messaging.IntegrationTests.Harness;
using Messaging.Projections.Runtime;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Messaging.IntegrationTests.Projections;

/// <summary>Runs only when <c>PROJECTIONS_MEASURE=1</c>: an ad-hoc measurement, not a pass/fail test.</summary>
public sealed class ProjectionsMeasurementFactAttribute : FactAttribute
{
    public ProjectionsMeasurementFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("PROJECTIONS_MEASURE") != "1")
        {
            Skip = "Measurement: run with PROJECTIONS_MEASURE=1 (numbers go to docs/operations.md).";
        }
    }
}

/// <summary>
/// How fast the projections drain a pre-filled <c>chat.events</c> backlog (1,000 chats, 3
/// recipient devices per event), live and by rebuild. <c>PROJECTIONS_MEASURE_EVENTS</c> sets the
/// number of events (default 100,000); <c>PROJECTIONS_MEASURE_SETTINGS</c> overrides settings,
/// e.g. <c>Projections:BatchSize=5000;Projections:Rebuild:PageSize=20000</c>.
/// </summary>
public sealed class ProjectionsThroughputMeasurement(ITestOutputHelper output)
{
    private const int ChatCount = 1000;

    [ProjectionsMeasurementFact]
    public async Task The_projections_drain_a_backlog_live_and_by_rebuild()
    {
        var total = int.TryParse(Environment.GetEnvironmentVariable("PROJECTIONS_MEASURE_EVENTS"), out var n) ? n : 100_000;
        await using var ctx = await ProjectionsTestContext.CreateAsync(settings =>
        {
            foreach (var pair in (Environment.GetEnvironmentVariable("PROJECTIONS_MEASURE_SETTINGS") ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries))
            {
                var parts = pair.Split('=', 2);
                settings[parts[0]] = parts[1];
            }
        });

        var produce = Stopwatch.StartNew();
        await ctx.ProduceManyAsync(Backlog(total));
        output.WriteLine($"produced {total:N0} events in {produce.Elapsed.TotalSeconds:0.0} s");

        await ctx.MigrateAsync();
        // The inbox (cursors) reads no chat events: the chat projection is the whole live ingest of a message.
        var host = await ctx.StartAsync(configure: s => s["Projections:Runners"] = "chat");
        var metrics = host.Services.GetRequiredService<ProjectionMetrics>();
        var clock = Stopwatch.StartNew();
        // Timed from the first committed page (the group join on Kafka 0.9 takes seconds and is not throughput).
        var first = new Dictionary<string, (TimeSpan At, long Applied)>();
        var finished = new Dictionary<string, TimeSpan>();
        await Eventually.TrueAsync(
            () =>
            {
                foreach (var projection in (string[])["chat"])
                {
                    if (!metrics.Snapshot().TryGetValue(projection, out var c) || c.Applied == 0)
                    {
                        continue;
                    }

                    first.TryAdd(projection, (clock.Elapsed, c.Applied));
                    if (!finished.ContainsKey(projection) && c.Applied >= total)
                    {
                        finished[projection] = clock.Elapsed;
                    }
                }

                return Task.FromResult(finished.Count == 1);
            },
            TimeSpan.FromMinutes(30),
            "the live chat projection through the backlog");
        await ctx.WaitForAsync("select count(*) from messages", total, "history rows", 600);
        foreach (var (projection, end) in finished)
        {
            var seconds = (end - first[projection].At).TotalSeconds;
            var events = total - first[projection].Applied;
            output.WriteLine($"live {projection}: {events:N0} events after the first page in {seconds:0.0} s = {events / seconds:N0} events/s; {end.TotalSeconds:0.0} s from start");
        }

        await ctx.StopAsync(host);
        foreach (var projection in (string[])["chat"])
        {
            var rebuild = Stopwatch.StartNew();
            var (code, text) = await ctx.CliAsync("rebuild", "--projection", projection);
            rebuild.Stop();
            code.Should().Be(0, text);
            output.WriteLine($"rebuild {projection}: {total:N0} events in {rebuild.Elapsed.TotalSeconds:0.0} s end to end = {total / rebuild.Elapsed.TotalSeconds:N0} events/s");
        }

        (await ctx.CountAsync("select count(*) from messages")).Should().Be(total);
    }

    internal static IEnumerable<Contracts.Events.ChatEvent> Backlog(int total)
    {
        var devices = new string[ChatCount][];
        for (var c = 0; c < ChatCount; c++)
        {
            devices[c] = [$"u{c}/phone", $"u{c + 1}/phone", $"u{c + 2}/laptop"];
        }

        var seq = new long[ChatCount];
        for (var i = 0; i < total; i++)
        {
            var c = i % ChatCount;
            seq[c]++;
            yield return seq[c] == 1
                ? Events.Created($"m{c}", [$"u{c}", $"u{c + 1}", $"u{c + 2}"])
                : Events.Message($"m{c}", seq[c], $"u{c}") with { Body = "a message body of about sixty bytes, typical of chat traffic" };
        }
    }
}
