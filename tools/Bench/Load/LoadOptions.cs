using Messaging.Bench.Connections;

namespace Messaging.Bench.Load;

public enum Scenario
{
    /// <summary>Every user in one group of <see cref="LoadOptions.GroupSize"/>; each message reaches every member device.</summary>
    GroupFanout,

    /// <summary>1:1 chats: user i with user i+1 (a ring), each message reaches two devices.</summary>
    Direct,

    /// <summary>Group members offline while messages are sent, then reconnect and <c>sync</c>: time until every inbox is drained.</summary>
    OfflineCatchup,

    /// <summary>Time to open U connections and Edge memory per idle connection.</summary>
    Connect,
}

/// <summary>How the generator's devices hold their WebSockets.</summary>
public enum ClientSockets
{
    /// <summary>One thread polls every socket with epoll (<see cref="SocketPoller"/>); ws:// on Linux x64, else <see cref="ClientWebSocket"/>.</summary>
    Polled,

    /// <summary>The runtime's ClientWebSocket, a receive loop and a send loop per socket (the generator before the fourteenth session).</summary>
    ClientWebSocket,
}

/// <summary>Everything a load run is parameterised by; each field is a command-line flag of <c>run</c>.</summary>
public sealed record LoadOptions
{
    public required IReadOnlyList<EdgeEndpoint> Edges { get; init; }

    public Scenario Scenario { get; init; } = Scenario.GroupFanout;

    public int Users { get; init; } = 1000;

    public int GroupSize { get; init; } = 10;

    /// <summary>Devices per user; a group holds every device of its <see cref="GroupSize"/> users.</summary>
    public int DevicesPerUser { get; init; } = 1;

    /// <summary>Offered send rates, one step each, in messages per second in total.</summary>
    public IReadOnlyList<double> Rates { get; init; } = [250, 500, 1000, 2000];

    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The first step's warm-up, if longer than <see cref="Warmup"/>: freshly started services
    /// (and a fresh broker's JIT) spend their first minute compiling, which the first step would
    /// otherwise measure (docs/benchmarks.md, "Cold start").
    /// </summary>
    public TimeSpan? FirstWarmup { get; init; }

    /// <summary>The unmeasured sending before step <paramref name="step"/> (1-based).</summary>
    public TimeSpan WarmupFor(int step) => step == 1 && FirstWarmup is { } first ? first : Warmup;

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>After sending stops: how long deliveries may still arrive before the rest count as missing.</summary>
    public TimeSpan Drain { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Pause after connecting (and after going offline) for the device registry to reach the Router.</summary>
    public TimeSpan Settle { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Set-up requests (tokens, connects, chat creation) fail the run after this long.</summary>
    public TimeSpan SetupTimeout { get; init; } = TimeSpan.FromSeconds(120);

    public int BodyBytes { get; init; } = 100;

    public int ConnectConcurrency { get; init; } = 64;

    public ClientSockets Client { get; init; } = ClientSockets.Polled;

    /// <summary>
    /// With <see cref="ClientSockets.Polled"/>: threads that poll the sockets, each a share of them;
    /// one per core by default. One thread read a group's 2,048 copies one after the other and,
    /// with the servers on the same cores, queued them: groups of 1,024, pushed→received p99
    /// 223–279 ms with 1 thread against 101–191 ms with 2, at the same generator CPU (fourteenth
    /// session; in its final set 1 and 2 did not separate).
    /// </summary>
    public int Pollers { get; init; } = Environment.ProcessorCount;

    /// <summary>Clients ack cumulatively per chat; batching acks on this period is what a phone does too.</summary>
    public TimeSpan AckInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Receipts on (issue 11): every device also marks what it acks as read (a <c>read</c> frame
    /// after each ack), so the Edge nodes gather delivered and read receipts and push them to the
    /// senders, and the Router decides a read marker per read.
    /// </summary>
    public bool Receipts { get; init; }

    /// <summary>Stop stepping once a step's p99 exceeds this.</summary>
    public TimeSpan MaxP99 { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary><c>offline-catchup</c>: messages sent to each group while its members are offline.</summary>
    public int OfflineMessages { get; init; } = 100;

    /// <summary>
    /// <c>offline-catchup</c>: the first member of each group sends and stays online (the shape
    /// before issue 10's 1,000 × 1,000 target: <see cref="Users"/> − groups devices offline).
    /// By default each group has a sender user of its own and every one of the users goes offline.
    /// </summary>
    public bool MemberSenders { get; init; }

    public int MaxFrameBytes { get; init; } = 16 * 1024 * 1024;

    public string ResultsDirectory { get; init; } = Path.Combine("bench", "results");

    /// <summary>
    /// Where the chart of a rate sweep goes: by default (<see cref="ChartNextToResults"/>) beside the
    /// run's results file, so a run never rewrites the committed docs/bench-chart.svg (that one is
    /// updated on purpose, with <c>chart --input</c>); empty for none.
    /// </summary>
    public string ChartPath { get; init; } = ChartNextToResults;

    /// <summary>The default <see cref="ChartPath"/>: <c>{ResultsDirectory}/{runId}.svg</c>.</summary>
    public const string ChartNextToResults = "results";

    /// <summary>
    /// Where <c>make run</c> records its services' pids (<c>.local/run/services</c>): CPU is then
    /// measured for exactly those processes, by name; without it every Edge/Router/Projections
    /// process on the machine counts.
    /// </summary>
    public string ServicePidsDirectory { get; init; } = Path.Combine(".local", "run", "services");

    /// <summary>Prefix of the user ids of this run, so runs never share users or chats.</summary>
    public string UserPrefix { get; init; } = "bench";
}
