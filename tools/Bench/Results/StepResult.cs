using Messaging.Bench.Metrics;

namespace Messaging.Bench.Results;

/// <summary>Latency percentiles of one step in milliseconds, from the send timestamp each message carries.</summary>
public sealed record LatencySummary(long Count, double P50, double P95, double P99, double Max)
{
    private const double MicrosPerMillisecond = 1000.0;

    public static LatencySummary From(LatencyHistogram micros) => new(
        micros.TotalCount,
        ToMilliseconds(micros.ValueAtPercentile(50)),
        ToMilliseconds(micros.ValueAtPercentile(95)),
        ToMilliseconds(micros.ValueAtPercentile(99)),
        ToMilliseconds(micros.Max));

    private static double ToMilliseconds(long micros) => Math.Round(micros / MicrosPerMillisecond, 2);
}

/// <summary>Percentiles of one hop of the deliveries (docs/benchmarks.md, "Per-hop latency"), in milliseconds.</summary>
public sealed record HopLatency(string Hop, long Count, double P50, double P99)
{
    public static HopLatency From(string hop, LatencyHistogram micros)
    {
        var summary = LatencySummary.From(micros);
        return new HopLatency(hop, summary.Count, summary.P50, summary.P99);
    }
}

/// <summary>Where and how the figures were taken: every quoted number needs its machine and configuration.</summary>
public sealed record MachineInfo(string Host, int Cores, double MemoryGiB, string Os, string Runtime)
{
    public static MachineInfo Current() => new(
        Environment.MachineName,
        Environment.ProcessorCount,
        Math.Round(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024.0 * 1024 * 1024), 1),
        System.Runtime.InteropServices.RuntimeInformation.OSDescription,
        System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription);
}

/// <summary>
/// One line of <c>bench/results/*.jsonl</c>: one step of one scenario at one offered rate.
/// Scenario-specific figures are null (left out of the JSON) where they do not apply.
/// </summary>
public sealed record StepResult
{
    public required string RunId { get; init; }

    public required DateTimeOffset At { get; init; }

    public required string Scenario { get; init; }

    public required int Step { get; init; }

    /// <summary>Messages per second the open-loop schedule offered (sends, not deliveries).</summary>
    public required double OfferedRate { get; init; }

    public required double WarmupSeconds { get; init; }

    public required double DurationSeconds { get; init; }

    public required int Users { get; init; }

    /// <summary>Devices of each user (every one a group member's device); absent when 1.</summary>
    public int? DevicesPerUser { get; init; }

    public required int GroupSize { get; init; }

    public required int EdgeNodes { get; init; }

    public required int BodyBytes { get; init; }

    /// <summary>Sends the server accepted (durable in the log) per second of the measured window.</summary>
    public required double SendsPerSecond { get; init; }

    /// <summary>Messages pushed to devices per second of the measured window (every recipient device counts).</summary>
    public required double DeliveriesPerSecond { get; init; }

    public required long Sent { get; init; }

    public required long Accepted { get; init; }

    public required long SendErrors { get; init; }

    public required long ExpectedDeliveries { get; init; }

    public required long Delivered { get; init; }

    /// <summary>Deliveries of accepted messages that had not arrived when the drain period ended.</summary>
    public required long Missing { get; init; }

    public required long Duplicates { get; init; }

    public required LatencySummary LatencyMs { get; init; }

    public required IReadOnlyList<ProcessUsage> Processes { get; init; }

    /// <summary>CPU per server process and in total (last line), with microseconds per delivered copy.</summary>
    public IReadOnlyList<ServerCpu>? ServerCpu { get; init; }

    /// <summary>Requests per second each service sent to the broker, and in total (last line): Kafka's CPU follows this count.</summary>
    public IReadOnlyList<BrokerRequests>? BrokerRequests { get; init; }

    /// <summary>Per-hop latency of the measured deliveries, when the frames carried hop timestamps (<c>Edge:HopTimestamps</c>).</summary>
    public IReadOnlyList<HopLatency>? HopsMs { get; init; }

    public required double GeneratorCpuPercent { get; init; }

    public required MachineInfo Machine { get; init; }

    public double? ConnectSeconds { get; init; }

    public double? EdgeRssPerConnectionBytes { get; init; }

    public double? DrainSeconds { get; init; }

    public string? Note { get; init; }

    /// <summary>Why stepping stopped after this step, when it did.</summary>
    public string? StoppedBecause { get; init; }
}
