using System.ComponentModel.DataAnnotations;

namespace Messaging.Projections.Rebuild;

/// <summary>Section <c>Projections:Rebuild</c>.</summary>
public sealed class RebuildOptions
{
    public const string Section = "Projections:Rebuild";

    /// <summary>Records per transaction while replaying (bigger than live pages: throughput, not latency).</summary>
    [Range(1, 1_000_000)]
    public int PageSize { get; set; } = 5000;

    /// <summary>
    /// Pages decoded ahead of the one being written, on the thread pool in parallel: decoding is
    /// the rebuild's biggest client-side cost, and the fetch thread and the writer must not wait
    /// for it (docs/operations.md, "Measured").
    /// </summary>
    [Range(1, 64)]
    public int DecodeAhead { get; set; } = 4;

    /// <summary>
    /// Connections writing the bulk replay's pages at once, each its own partitions' pages in log
    /// order (<see cref="PageWriters"/>). One writer was the replay's bound: 1M chat events took
    /// 8.0-8.5 s of a 10 s rebuild with the CLI at 53 % of a core and PostgreSQL at 37 %, each
    /// page's COPY and commit waiting for the previous one (docs/benchmarks.md).
    /// </summary>
    [Range(1, 64)]
    public int Writers { get; set; } = 2;

    /// <summary>
    /// <c>maintenance_work_mem</c> of the finalize step (MB): the index builds sort the whole
    /// copy, and with the server's default (64 MB) the primary key of 1M rows spilled to disk.
    /// </summary>
    [Range(1, 65_536)]
    public int MaintenanceWorkMemMb { get; set; } = 512;

    /// <summary>How often progress is printed when stdout is not a terminal (ms).</summary>
    [Range(100, 600_000)]
    public int ProgressIntervalMs { get; set; } = 1000;

    /// <summary>
    /// lock_timeout of the swap transaction: a reader holding the live table (an Edge query)
    /// must not make the swap wait forever while it blocks every other reader behind it.
    /// </summary>
    [Range(100, 600_000)]
    public int SwapLockTimeoutMs { get; set; } = 10_000;
}
