using System.Diagnostics;
using Messaging.Contracts.Commands;
using Messaging.IntegrationTests.Harness;
using Messaging.Router.Routing;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;
using static Messaging.IntegrationTests.Router.RouterTestBed;

namespace Messaging.IntegrationTests.Router;

/// <summary>Runs only when <c>ROUTER_MEASURE=1</c>: an ad-hoc measurement, not a pass/fail test.</summary>
public sealed class MeasurementFactAttribute : FactAttribute
{
    public MeasurementFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("ROUTER_MEASURE") != "1")
        {
            Skip = "Measurement: run with ROUTER_MEASURE=1 (numbers go to docs/router.md).";
        }
    }
}

/// <summary>
/// How fast one in-process Router drains a pre-filled backlog: 1000 group chats of 10 members, 2
/// devices per user (one online, spread over the nodes, one offline), 100k sends.
/// </summary>
public sealed class RouterThroughputMeasurement(ITestOutputHelper output)
{
    private const int UserCount = 1000;
    private const int ChatCount = 1000;
    private const int SendCount = 100_000;

    [MeasurementFact]
    public async Task One_Router_drains_a_backlog_of_sends()
    {
        await using var bed = await CreateAsync();
        var registrations = new List<Task>();
        for (var u = 0; u < UserCount; u++)
        {
            registrations.Add(bed.RegisterAsync($"u{u}", $"u{u}-d0", $"u{u}-d1"));
            registrations.Add(bed.SessionAsync($"u{u}", $"u{u}-d0", u % EdgeNodes));
        }

        await Task.WhenAll(registrations);
        var chats = Enumerable.Range(0, ChatCount).Select(c => $"chat-{c}").ToArray();
        string Member(int chat, int i) => $"u{((chat * 10) + i) % UserCount}";
        await bed.SendManyAsync(chats.Select((c, n) => Group(c, Member(n, 0), [.. Enumerable.Range(1, 9).Select(i => Member(n, i))])));
        var random = new Random(1);
        var commands = new List<ChatCommand>(SendCount);
        for (var i = 0; i < SendCount; i++)
        {
            var n = random.Next(ChatCount);
            commands.Add(Send(chats[n], Member(n, random.Next(10)), body: "a message body of about sixty bytes, typical of chat traffic"));
        }

        await bed.SendManyAsync(commands);
        var total = ChatCount + SendCount;

        // Variations without a rebuild, e.g. ROUTER_MEASURE_SETTINGS="Router:MaxBatch=5000;Router:RecentClientMsgIds=0".
        foreach (var pair in (Environment.GetEnvironmentVariable("ROUTER_MEASURE_SETTINGS") ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = pair.Split('=', 2);
            bed.Settings[parts[0]] = parts[1];
        }

        var host = await bed.StartRouterAsync();
        var metrics = host.Services.GetRequiredService<RouterMetrics>();
        await Eventually.TrueAsync(() => Task.FromResult(metrics.TotalCommands > 0), WaitLimit, "the first batch");
        var clock = Stopwatch.StartNew();
        var startCommands = metrics.TotalCommands;
        var startDeliveries = metrics.TotalDeliveries;
        await Eventually.TrueAsync(() => Task.FromResult(metrics.TotalCommands >= total), TimeSpan.FromMinutes(10), "the whole backlog");
        clock.Stop();

        var seconds = clock.Elapsed.TotalSeconds;
        var commandsPerSecond = (metrics.TotalCommands - startCommands) / seconds;
        var deliveriesPerSecond = (metrics.TotalDeliveries - startDeliveries) / seconds;
        output.WriteLine($"{metrics.TotalCommands - startCommands} commands in {seconds:0.00} s: {commandsPerSecond:0} commands/s, {deliveriesPerSecond:0} delivery records/s ({metrics.TotalDeliveries} delivery records in all)");
        metrics.TotalCommands.Should().Be(total);
    }
}
