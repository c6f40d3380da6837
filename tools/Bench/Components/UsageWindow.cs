using System.Diagnostics;
using Messaging.Bench.Metrics;

namespace Messaging.Bench.Components;

/// <summary>CPU and memory of the service under test, the shared infrastructure and the bench itself over one measured window.</summary>
public sealed class UsageWindow
{
    /// <summary>Kafka, ZooKeeper and PostgreSQL: what the service leans on. The other services are not running in a component run.</summary>
    private static readonly IReadOnlyList<ProcessKind> Infrastructure =
        [.. ProcessKind.System.Where(k => k.Name is "kafka" or "zookeeper" or "postgres")];

    private readonly ProcessSampler _sampler = new(Infrastructure);
    private readonly int _pid;
    private readonly string _kind;
    private ProcessSample _serviceStart;
    private ProcessSample _serviceLast;
    private IReadOnlyList<ProcessSample> _infrastructureStart = [];
    private readonly Dictionary<int, ProcessSample> _infrastructureLast = [];
    private TimeSpan _generatorStart;
    private long _startedAt;
    private long _peakRss;

    public UsageWindow(int pid, string kind)
    {
        _pid = pid;
        _kind = kind;
    }

    public void Start()
    {
        _startedAt = Stopwatch.GetTimestamp();
        ProcessSampler.TrySampleOne(_pid, _kind, out _serviceStart);
        _serviceLast = _serviceStart;
        _infrastructureStart = _sampler.Sample();
        _infrastructureLast.Clear();
        _generatorStart = ProcessSampler.GeneratorProcessorTime();
    }

    /// <summary>
    /// Reads the service (and the infrastructure) once more. A process that is about to exit (the rebuild command) can only
    /// be read while it lives, so callers sample it on every poll and the last sample counts.
    /// </summary>
    public void Observe()
    {
        if (ProcessSampler.TrySampleOne(_pid, _kind, out var sample))
        {
            _serviceLast = sample;
            _peakRss = Math.Max(_peakRss, Math.Max(sample.RssBytes, ProcessSampler.PeakResidentBytes(_pid)));
        }

        // A PostgreSQL backend lives as long as its client's connection: one that served the
        // service and ended with it still counts with the CPU it had when last seen.
        foreach (var infrastructure in _sampler.Sample())
        {
            _infrastructureLast[infrastructure.Pid] = infrastructure;
        }
    }

    public Usage Finish()
    {
        Observe();
        var window = Stopwatch.GetElapsedTime(_startedAt);
        var now = _sampler.Sample();
        var ended = _infrastructureLast.Values.Where(seen => !now.Any(n => n.Pid == seen.Pid)).Select(seen => seen with { RssBytes = 0 });
        return new Usage(
            ProcessSampler.CpuPercent(_serviceStart, _serviceLast, window),
            Math.Round(_serviceLast.RssBytes / (1024.0 * 1024.0), 1),
            Math.Round(_peakRss / (1024.0 * 1024.0), 1),
            _sampler.Usage(_infrastructureStart, [.. now, .. ended], window),
            ProcessSampler.GeneratorCpuPercent(_generatorStart, ProcessSampler.GeneratorProcessorTime(), window));
    }

    public sealed record Usage(double CpuPercent, double RssMiB, double PeakRssMiB, IReadOnlyList<ProcessUsage> Infrastructure, double GeneratorCpuPercent);
}
