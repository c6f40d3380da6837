using System.ComponentModel.DataAnnotations;

namespace Messaging.Projections;

/// <summary>Section <c>Projections</c>.</summary>
public sealed class ProjectionsOptions : IValidatableObject
{
    public const string Section = "Projections";

    internal static readonly string[] Known = ["inbox", "chat", "presence"];

    /// <summary>Records applied per transaction at most.</summary>
    [Range(1, 100_000)]
    public int BatchSize { get; set; } = 1000;

    /// <summary>How long a runner waits for the first record of a page before looping (ms).</summary>
    [Range(1, 60_000)]
    public int MaxBatchWaitMs { get; set; } = 100;

    /// <summary>
    /// A fetch of a runner in <see cref="BatchedFetchRunners"/> waits for this many bytes (or
    /// <see cref="FetchWaitMaxMs"/>) before the broker answers, so pages are bigger and fewer. With
    /// librdkafka's 1 byte each of the three runners fetched, wrote a page and committed once per
    /// Edge produce: ~800 of the broker's ~3,500 requests/s at 500 sends/s, and Projections plus
    /// PostgreSQL at ~37 % of the 2 cores (docs/benchmarks.md, "sixth session").
    /// </summary>
    [Range(1, 64 * 1024 * 1024)]
    public int FetchMinBytes { get; set; } = 262_144;

    /// <summary>The longest a batched runner's fetch waits for <see cref="FetchMinBytes"/> (ms): its read model's added lag at low traffic.</summary>
    [Range(1, 60_000)]
    public int FetchWaitMaxMs { get; set; } = 250;

    /// <summary>
    /// How long a page of the <c>inbox</c> runner stays open after its first record for more to
    /// join it (ms; 0: only what was already fetched). Its pages are the devices' delivery cursors,
    /// one row per device and chat acked in the page: with pages of ~1 s a device that acks twice a
    /// second writes its cursor once, and in groups of 1,024 (41,000 acks/s) PostgreSQL used half
    /// (docs/benchmarks.md, "fifteenth session"). The chat list's unread count reads the cursors,
    /// so Edge waits for them and asks for the page at once when this runner is behind (see
    /// <see cref="InboxFlushPollMs"/>); before it asked, a fresh-clone CI run of WebClientTests
    /// showed a device that reconnected within the linger of its last ack received messages as
    /// unread. Under a backlog
    /// a page fills to <see cref="BatchSize"/> without waiting. A linger rather than a bigger fetch:
    /// the broker counts at most one partition fetch size (1 MiB) per partition towards a fetch's
    /// minimum, so with a minimum above 1 MiB a lone busy partition would wait the full fetch wait
    /// on every fetch.
    /// </summary>
    [Range(0, 60_000)]
    public int InboxPageLingerMs { get; set; } = 1000;

    /// <summary>
    /// While an <c>inbox</c> page lingers, how often the runner looks for a flush request from Edge
    /// (ms; a PostgreSQL notification sets it, the runner's thread polls it, as the Kafka client's
    /// wait cannot be woken): the most a chat list waiting for a device's cursor waits beyond one fetch.
    /// </summary>
    [Range(1, 10_000)]
    public int InboxFlushPollMs { get; set; } = 20;

    /// <summary>
    /// Comma-separated runners whose fetches wait for <see cref="FetchMinBytes"/>; the others
    /// fetch at the first record. All three by default: Edge reads <c>chat_members</c> and
    /// <c>messages</c> causally (history, presence, media downloads, read markers and the chat list
    /// wait for the chat projection before refusing or answering), so its lag is not a refusal.
    /// Batching <c>chat</c> too took Projections plus PostgreSQL from ~35 % to ~6 % of the 2 cores
    /// at 500 sends/s (docs/benchmarks.md, "sixth session" and "seventh session").
    /// </summary>
    public string BatchedFetchRunners { get; set; } = "chat,inbox,presence";

    /// <summary>On SIGTERM, how long a runner may still take to apply and commit the page in hand (ms); under the host's 30 s shutdown timeout.</summary>
    [Range(0, 25_000)]
    public int DrainTimeoutMs { get; set; } = 10_000;

    /// <summary>Comma-separated projections this process runs (scale out by running the same set in several processes).</summary>
    [Required]
    public string Runners { get; set; } = "inbox,chat,presence";

    /// <summary>Apply the embedded migrations at start (off when a deployment runs <c>migrate</c> as a separate step).</summary>
    public bool MigrateOnStart { get; set; } = true;

    /// <summary>First back-off after a database error that is not the record's fault (ms); doubles up to <see cref="MaxRetryBackoffMs"/>.</summary>
    [Range(1, 600_000)]
    public int RetryBackoffMs { get; set; } = 500;

    [Range(1, 600_000)]
    public int MaxRetryBackoffMs { get; set; } = 30_000;

    internal IReadOnlyList<string> RunnerNames() => Names(Runners);

    internal bool BatchesFetches(string runner) => Names(BatchedFetchRunners).Contains(runner);

    /// <summary>How long a runner's page stays open after its first record: only <c>inbox</c> lingers.</summary>
    internal TimeSpan PageLingerFor(string runner) => TimeSpan.FromMilliseconds(runner == "inbox" ? InboxPageLingerMs : 0);

    /// <summary>Whether this process runs a lingering <c>inbox</c> runner (and so listens for flush requests).</summary>
    internal bool InboxLingers => InboxPageLingerMs > 0 && RunnerNames().Contains("inbox");

    private static List<string> Names(string list)
    {
        var names = new List<string>();
        foreach (var part in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            names.Add(part.ToLowerInvariant());
        }

        return names;
    }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var name in RunnerNames())
        {
            if (Array.IndexOf(Known, name) < 0)
            {
                yield return new ValidationResult($"Projections:Runners: unknown projection '{name}' (known: {string.Join(", ", Known)}).", [nameof(Runners)]);
            }
        }

        foreach (var name in Names(BatchedFetchRunners))
        {
            if (Array.IndexOf(Known, name) < 0)
            {
                yield return new ValidationResult($"Projections:BatchedFetchRunners: unknown projection '{name}' (known: {string.Join(", ", Known)}).", [nameof(BatchedFetchRunners)]);
            }
        }

        if (MaxRetryBackoffMs < RetryBackoffMs)
        {
            yield return new ValidationResult("Projections:MaxRetryBackoffMs must be >= RetryBackoffMs.", [nameof(MaxRetryBackoffMs)]);
        }
    }
}
