using System.ComponentModel.DataAnnotations;

namespace Messaging.Hosting.Telemetry;

/// <summary>
/// Metrics and traces of a service (section <c>Telemetry</c>): a Prometheus scrape endpoint on by
/// default, OTLP export and tracing off by default, so a run that does not look costs nothing
/// beyond counting.
/// </summary>
public sealed class TelemetryOptions
{
    public const string Section = "Telemetry";

    /// <summary>Serve the OpenTelemetry metrics in Prometheus text format at <see cref="PrometheusPath"/>.</summary>
    public bool Prometheus { get; set; } = true;

    [Required]
    public string PrometheusPath { get; set; } = "/metrics";

    /// <summary>
    /// OTLP collector address (e.g. <c>http://127.0.0.1:4317</c>); empty: no OTLP export. Protocol,
    /// headers and timeouts come from the standard <c>OTEL_EXPORTER_OTLP_*</c> environment variables.
    /// </summary>
    public string OtlpEndpoint { get; set; } = "";

    /// <summary>
    /// Share of messages traced end to end (0..1): 0 turns tracing off (no spans, no
    /// <c>traceparent</c> in records). A sampled trace follows its message through every service.
    /// </summary>
    [Range(0.0, 1.0)]
    public double TraceSampleRatio { get; set; }

    /// <summary>
    /// Export Kestrel's memory pool meter (<c>Microsoft.AspNetCore.MemoryPool</c>: pooled, rented,
    /// allocated and evicted bytes). Off by default: it records on every buffer Kestrel rents and
    /// returns, ~1.3 % of an Edge node's CPU samples in groups of 1,024 (docs/benchmarks.md,
    /// twentieth session), and it says nothing the process's memory metrics do not.
    /// </summary>
    public bool MemoryPoolMetrics { get; set; }

    /// <summary>Service name on every metric and span; empty: the entry assembly's name.</summary>
    public string ServiceName { get; set; } = "";
}
