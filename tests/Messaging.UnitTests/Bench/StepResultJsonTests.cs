using System.Text;
using System.Text.Json;
using Messaging.Bench.Metrics;
using Messaging.Bench.Results;

namespace Messaging.UnitTests.Bench;

public sealed class StepResultJsonTests
{
    internal static StepResult Step(double rate, double p99 = 12.5, int step = 1) => new()
    {
        RunId = "group-fanout-20260101T000000Z",
        At = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero),
        Scenario = "group-fanout",
        Step = step,
        OfferedRate = rate,
        WarmupSeconds = 5,
        DurationSeconds = 20,
        Users = 1000,
        GroupSize = 10,
        EdgeNodes = 2,
        BodyBytes = 100,
        SendsPerSecond = rate,
        DeliveriesPerSecond = rate * 10,
        Sent = (long)rate * 20,
        Accepted = (long)rate * 20,
        SendErrors = 0,
        ExpectedDeliveries = (long)rate * 200,
        Delivered = (long)rate * 200,
        Missing = 0,
        Duplicates = 0,
        LatencyMs = new LatencySummary(2000, 3.1, 8.2, p99, 40),
        Processes = [new ProcessUsage("edge", 2, 55.5, 210.3), new ProcessUsage("kafka", 1, 20, 900)],
        GeneratorCpuPercent = 30,
        Machine = new MachineInfo("box", 2, 24, "Linux", ".NET 10"),
    };

    [Fact]
    public void A_step_is_one_line_of_json_ending_in_a_newline()
    {
        var line = ResultLog.ToJsonLine(Step(1000));

        line[^1].Should().Be((byte)'\n');
        line.AsSpan(0, line.Length - 1).IndexOf((byte)'\n').Should().Be(-1);
        using var document = JsonDocument.Parse(line);
        document.RootElement.ValueKind.Should().Be(JsonValueKind.Object);
    }

    [Fact]
    public void The_line_has_the_documented_camel_case_fields()
    {
        using var document = JsonDocument.Parse(ResultLog.ToJsonLine(Step(2000)));
        var root = document.RootElement;

        root.GetProperty("scenario").GetString().Should().Be("group-fanout");
        root.GetProperty("offeredRate").GetDouble().Should().Be(2000);
        root.GetProperty("sendsPerSecond").GetDouble().Should().Be(2000);
        root.GetProperty("deliveriesPerSecond").GetDouble().Should().Be(20000);
        root.GetProperty("missing").GetInt64().Should().Be(0);
        root.GetProperty("duplicates").GetInt64().Should().Be(0);
        var latency = root.GetProperty("latencyMs");
        latency.GetProperty("p50").GetDouble().Should().Be(3.1);
        latency.GetProperty("p95").GetDouble().Should().Be(8.2);
        latency.GetProperty("p99").GetDouble().Should().Be(12.5);
        latency.GetProperty("max").GetDouble().Should().Be(40);
        var edge = root.GetProperty("processes")[0];
        edge.GetProperty("kind").GetString().Should().Be("edge");
        edge.GetProperty("cpuPercent").GetDouble().Should().Be(55.5);
        edge.GetProperty("rssMiB").GetDouble().Should().Be(210.3);
        root.GetProperty("generatorCpuPercent").GetDouble().Should().Be(30);
        root.GetProperty("machine").GetProperty("cores").GetInt32().Should().Be(2);
    }

    [Fact]
    public void Figures_that_do_not_apply_to_a_scenario_are_left_out()
    {
        var json = Encoding.UTF8.GetString(ResultLog.ToJsonLine(Step(250)));

        json.Should().NotContain("connectSeconds").And.NotContain("drainSeconds").And.NotContain("stoppedBecause");
    }

    [Fact]
    public async Task Lines_read_back_as_the_steps_written_skipping_a_truncated_last_line()
    {
        var path = Path.Combine(Path.GetTempPath(), "bench-" + Guid.NewGuid().ToString("N") + ".jsonl");
        try
        {
            var log = new ResultLog(path);
            await log.AppendAsync(Step(250, step: 1), CancellationToken.None);
            await log.AppendAsync(Step(500, step: 2) with { StoppedBecause = "p99 1200 ms > 1000 ms" }, CancellationToken.None);
            await File.AppendAllTextAsync(path, "{\"runId\":\"interrupted");

            var steps = await ResultLog.ReadAsync(path, CancellationToken.None);

            steps.Should().HaveCount(2);
            steps[1].OfferedRate.Should().Be(500);
            steps[1].StoppedBecause.Should().Be("p99 1200 ms > 1000 ms");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Latency_summary_converts_microseconds_to_milliseconds()
    {
        var histogram = new LatencyHistogram();
        for (var i = 1; i <= 100; i++)
        {
            histogram.Record(i * 1000);
        }

        var summary = LatencySummary.From(histogram);

        summary.Count.Should().Be(100);
        summary.P50.Should().BeApproximately(50, 0.5);
        summary.P99.Should().BeApproximately(99, 1);
        summary.Max.Should().Be(100);
    }
}
