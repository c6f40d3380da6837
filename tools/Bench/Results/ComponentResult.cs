using Messaging.Bench.Metrics;

namespace Messaging.Bench.Results;

/// <summary>
/// One line of <c>bench/results/{router|projections}-*.jsonl</c>: one phase of a component
/// benchmark (a single service process draining a pre-filled backlog). Figures that do not apply
/// to the component are null and left out of the JSON.
/// </summary>
public sealed record ComponentResult
{
    public required string RunId { get; init; }

    public required DateTimeOffset At { get; init; }

    /// <summary><c>router</c> or <c>projections</c>.</summary>
    public required string Component { get; init; }

    /// <summary><c>drain</c> (router), <c>live</c> or <c>rebuild</c> (projections).</summary>
    public required string Phase { get; init; }

    /// <summary>The isolated topic namespace of the run (<c>Kafka:TopicPrefix</c>).</summary>
    public required string TopicPrefix { get; init; }

    /// <summary>The PostgreSQL schema of the run (projections only).</summary>
    public string? Schema { get; init; }

    /// <summary>Path of the service assembly that ran, so a Debug build is visible in the results.</summary>
    public required string Service { get; init; }

    /// <summary>Extra configuration given to the service (<c>--setting KEY=VALUE</c>).</summary>
    public required IReadOnlyList<string> Settings { get; init; }

    public required int Chats { get; init; }

    public required int GroupSize { get; init; }

    /// <summary>Devices per member of the groups (projections bench); null in results from before it was recorded.</summary>
    public int? DevicesPerMember { get; init; }

    public required int BodyBytes { get; init; }

    public int? Users { get; init; }

    public int? DevicesPerUser { get; init; }

    public int? OnlineDevicesPerUser { get; init; }

    public int? EdgeNodes { get; init; }

    /// <summary>Records written before the service started, and how fast the bench wrote them.</summary>
    public required long PrefillRecords { get; init; }

    public required double PrefillSeconds { get; init; }

    /// <summary>Process start to the first progress the bench observed (start-up, catch-up of directories, first batch).</summary>
    public required double StartupSeconds { get; init; }

    /// <summary>The measured window: first observed progress to the end of the backlog (rebuild: the command's wall time).</summary>
    public required double Seconds { get; init; }

    public long? Commands { get; init; }

    public double? CommandsPerSecond { get; init; }

    /// <summary>Records on <c>delivery.node-*</c> written in the window (high watermarks).</summary>
    public long? DeliveryRecords { get; init; }

    public long? ExpectedDeliveryRecords { get; init; }

    public double? DeliveryRecordsPerSecond { get; init; }

    public long? Events { get; init; }

    public double? EventsPerSecond { get; init; }

    /// <summary>Per-device inbox rows; null since the cursor inbox (issue 10), which writes none per message.</summary>
    public long? InboxRows { get; init; }

    public double? InboxRowsPerSecond { get; init; }

    /// <summary>Cursor rows (<c>device_cursors</c>) after the phase.</summary>
    public long? CursorRows { get; init; }

    /// <summary>Per projection (live phase): its own window and rate over <c>chat.events</c>.</summary>
    public IReadOnlyList<ProjectionRate>? Projections { get; init; }

    /// <summary>CPU% (of one core) of the service process over the window, and its RSS at the end and at its peak.</summary>
    public required double ServiceCpuPercent { get; init; }

    /// <summary>CPU time of the service over the window (seconds; the rebuild phase): comparable between runs on a shared machine where wall time is not.</summary>
    public double? ServiceCpuSeconds { get; init; }

    public required double ServiceRssMiB { get; init; }

    public required double ServicePeakRssMiB { get; init; }

    /// <summary>The shared infrastructure over the same window (every process of that kind on the machine).</summary>
    public required IReadOnlyList<ProcessUsage> Processes { get; init; }

    public required double GeneratorCpuPercent { get; init; }

    public required MachineInfo Machine { get; init; }

    public string? Note { get; init; }
}

/// <summary>One live projection's catch-up over the pre-filled events.</summary>
public sealed record ProjectionRate(string Name, double Seconds, long Events, double EventsPerSecond);
