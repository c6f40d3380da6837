namespace Messaging.Bench.Load;

/// <summary>
/// The hops of one delivery, between the timestamps a live <c>message</c> carries
/// (docs/benchmarks.md, "Per-hop latency"): the generator's intended send time, Edge accepting the
/// send, the Router deciding it, the receiving Edge queueing the push, the generator receiving it.
/// </summary>
public static class Hops
{
    public const int ClientToEdge = 0;
    public const int EdgeToRouter = 1;
    public const int RouterToEdge = 2;
    public const int EdgeToClient = 3;

    /// <summary>Names as they appear in the results, indexed by the constants above.</summary>
    public static IReadOnlyList<string> Names { get; } = ["sent→accepted", "accepted→decided", "decided→pushed", "pushed→received"];
}
