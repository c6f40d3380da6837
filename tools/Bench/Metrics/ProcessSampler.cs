using System.Diagnostics;
using System.Globalization;

namespace Messaging.Bench.Metrics;

/// <summary>
/// A kind of process of the system under test and how to recognise it by its command line.
/// <see cref="IsService"/>: one of the system's own services, reported per process (two Edge nodes
/// are two lines), and restricted to the pids <c>make run</c> recorded when those are known.
/// </summary>
public sealed record ProcessKind(string Name, string CommandLineMarker, bool MatchProgramNameOnly = false, bool IsService = false)
{
    /// <summary>The processes <c>make run</c> starts: the three services, Kafka with ZooKeeper, PostgreSQL and s3rver.</summary>
    public static IReadOnlyList<ProcessKind> System { get; } =
    [
        new("edge", "Messaging.Edge.dll", IsService: true),
        new("router", "Messaging.Router.dll", IsService: true),
        new("projections", "Messaging.Projections.dll", IsService: true),
        new("kafka", "kafka.Kafka"),
        new("zookeeper", "QuorumPeerMain"),

        // PostgreSQL rewrites its backends' argv to "postgres: user db ...": match the program name.
        new("postgres", "postgres", MatchProgramNameOnly: true),
        new("s3rver", "s3rver"),
    ];
}

/// <summary>CPU time and resident memory of one process at one instant, from /proc.</summary>
public readonly record struct ProcessSample(int Pid, string Kind, long CpuTicks, long RssBytes);

/// <summary>CPU and memory of one kind of process over a window.</summary>
public sealed record ProcessUsage(string Kind, int Processes, double CpuPercent, double RssMiB);

/// <summary>
/// CPU of one server process (a service by its <c>make run</c> name, e.g. <c>edge-0</c>) or of all
/// processes of an infrastructure kind (<c>postgres</c>: every backend) over a window, and that CPU
/// per delivered copy in microseconds (null when nothing was delivered).
/// </summary>
public sealed record ServerCpu(string Process, int Pids, double CpuPercent, double? MicrosPerDelivery);

/// <summary>
/// Reads CPU time and RSS of the system's processes from /proc (Linux only; elsewhere it reports
/// nothing). CPU% is of one core, so two busy cores read 200 %.
/// </summary>
public sealed class ProcessSampler
{
    /// <summary>
    /// Clock ticks per second of /proc/[pid]/stat times. USER_HZ is fixed at 100 by the Linux
    /// user-space ABI on every architecture .NET runs on (it is not the kernel's HZ).
    /// </summary>
    private const double ClockTicksPerSecond = 100;

    /// <summary>proc(5) numbers the stat fields from 1: state is field 3, utime 14, stime 15.</summary>
    private const int StatStateField = 3;
    private const int StatUserTimeField = 14;
    private const int StatSystemTimeField = 15;

    private readonly IReadOnlyList<ProcessKind> _kinds;
    private readonly IReadOnlyDictionary<int, string>? _services;

    /// <summary>
    /// Samples the processes of <paramref name="kinds"/>. <paramref name="services"/>: the services'
    /// pids and names as <c>make run</c> recorded them (<see cref="ReadServicePids"/>), so other
    /// services on the machine (another clone's, a test host) are left out; null: every process
    /// whose command line matches.
    /// </summary>
    public ProcessSampler(IReadOnlyList<ProcessKind> kinds, IReadOnlyDictionary<int, string>? services = null)
    {
        _kinds = kinds;
        _services = services;
    }

    /// <summary>
    /// The pid files <c>make run</c> writes (<c>.local/run/services/&lt;name&gt;.pid</c>: the
    /// <c>dotnet</c> process itself, run.sh execs into it), keeping the live ones whose command
    /// line names a Messaging assembly; null when the directory has none.
    /// </summary>
    public static IReadOnlyDictionary<int, string>? ReadServicePids(string directory)
    {
        if (!Directory.Exists(directory))
        {
            return null;
        }

        var services = new Dictionary<int, string>();
        foreach (var file in Directory.EnumerateFiles(directory, "*.pid"))
        {
            var text = File.ReadAllText(file).Trim();
            if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                && ReadCommandLine(pid).Contains("Messaging.", StringComparison.Ordinal))
            {
                services[pid] = Path.GetFileNameWithoutExtension(file);
            }
        }

        return services.Count == 0 ? null : services;
    }

    /// <summary>
    /// Per server process (services one line each, infrastructure one line per kind) between two
    /// samples, with CPU per delivered copy; the last line is <c>total</c>.
    /// </summary>
    public IReadOnlyList<ServerCpu> PerProcess(IReadOnlyList<ProcessSample> before, IReadOnlyList<ProcessSample> after, TimeSpan window, long deliveries)
    {
        var startTicks = new Dictionary<int, long>(before.Count);
        foreach (var sample in before)
        {
            startTicks[sample.Pid] = sample.CpuTicks;
        }

        var lines = new List<(string Name, int Pids, long Ticks)>();
        foreach (var kind in _kinds)
        {
            var kindAt = lines.Count;
            var pids = 0;
            long ticks = 0;
            foreach (var sample in after)
            {
                if (sample.Kind != kind.Name)
                {
                    continue;
                }

                var used = sample.CpuTicks - startTicks.GetValueOrDefault(sample.Pid);
                if (kind.IsService)
                {
                    var name = _services is not null && _services.TryGetValue(sample.Pid, out var recorded)
                        ? recorded
                        : string.Create(CultureInfo.InvariantCulture, $"{kind.Name}-pid{sample.Pid}");
                    lines.Add((name, 1, used));
                }
                else
                {
                    pids++;
                    ticks += used;
                }
            }

            if (kind.IsService)
            {
                lines.Sort(kindAt, lines.Count - kindAt, Comparer<(string Name, int Pids, long Ticks)>.Create((a, b) => string.CompareOrdinal(a.Name, b.Name)));
            }
            else if (pids > 0)
            {
                lines.Add((kind.Name, pids, ticks));
            }
        }

        var result = new List<ServerCpu>(lines.Count + 1);
        long totalTicks = 0;
        var totalPids = 0;
        foreach (var (name, pids, ticks) in lines)
        {
            result.Add(new ServerCpu(name, pids, CpuPercent(ticks, window), MicrosPerDelivery(ticks, deliveries)));
            totalTicks += ticks;
            totalPids += pids;
        }

        result.Add(new ServerCpu("total", totalPids, CpuPercent(totalTicks, window), MicrosPerDelivery(totalTicks, deliveries)));
        return result;
    }

    private static double? MicrosPerDelivery(long ticks, long deliveries) =>
        deliveries <= 0 ? null : Math.Round(ticks / ClockTicksPerSecond * 1_000_000 / deliveries, 1);

    public static bool IsSupported => Directory.Exists("/proc/self");

    /// <summary>Every running process of a known kind.</summary>
    public IReadOnlyList<ProcessSample> Sample()
    {
        var samples = new List<ProcessSample>();
        if (!IsSupported)
        {
            return samples;
        }

        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                || pid == Environment.ProcessId)
            {
                continue;
            }

            var kind = KindOf(ReadCommandLine(pid));
            if (kind is null || (kind.IsService && _services is not null && !_services.ContainsKey(pid))
                || !TryReadUsage(pid, out var cpuTicks, out var rssBytes))
            {
                continue;
            }

            samples.Add(new ProcessSample(pid, kind.Name, cpuTicks, rssBytes));
        }

        return samples;
    }

    /// <summary>
    /// Usage per kind between two samples. A process that started inside the window (a new
    /// PostgreSQL backend) counts with all of its CPU time; one that ended is left out.
    /// </summary>
    public IReadOnlyList<ProcessUsage> Usage(IReadOnlyList<ProcessSample> before, IReadOnlyList<ProcessSample> after, TimeSpan window)
    {
        var startTicks = new Dictionary<int, long>(before.Count);
        foreach (var sample in before)
        {
            startTicks[sample.Pid] = sample.CpuTicks;
        }

        var usage = new List<ProcessUsage>(_kinds.Count);
        foreach (var kind in _kinds)
        {
            var processes = 0;
            long ticks = 0;
            long rss = 0;
            foreach (var sample in after)
            {
                if (sample.Kind != kind.Name)
                {
                    continue;
                }

                processes++;
                rss += sample.RssBytes;
                ticks += sample.CpuTicks - startTicks.GetValueOrDefault(sample.Pid);
            }

            if (processes > 0)
            {
                usage.Add(new ProcessUsage(kind.Name, processes, CpuPercent(ticks, window), rss / (1024.0 * 1024.0)));
            }
        }

        return usage;
    }

    /// <summary>One known process (a service the bench started itself), whatever its command line; false once it ended.</summary>
    public static bool TrySampleOne(int pid, string kind, out ProcessSample sample)
    {
        sample = default;
        if (!IsSupported || !TryReadUsage(pid, out var cpuTicks, out var rssBytes))
        {
            return false;
        }

        sample = new ProcessSample(pid, kind, cpuTicks, rssBytes);
        return true;
    }

    /// <summary>CPU% of one core between two samples of the same process.</summary>
    public static double CpuPercent(ProcessSample before, ProcessSample after, TimeSpan window) =>
        CpuPercent(after.CpuTicks - before.CpuTicks, window);

    /// <summary>Peak resident memory of a process so far (<c>VmHWM</c> of /proc/[pid]/status), 0 when unknown.</summary>
    public static long PeakResidentBytes(int pid)
    {
        try
        {
            return ParsePeakResidentBytes(File.ReadAllText($"/proc/{pid}/status"));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }

    /// <summary>The <c>VmHWM:   12345 kB</c> line of /proc/[pid]/status in bytes, 0 when absent.</summary>
    internal static long ParsePeakResidentBytes(string status)
    {
        foreach (var line in status.Split('\n'))
        {
            if (!line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                continue;
            }

            var value = line["VmHWM:".Length..].Trim();
            var space = value.IndexOf(' ', StringComparison.Ordinal);
            return long.TryParse(space < 0 ? value : value[..space], NumberStyles.None, CultureInfo.InvariantCulture, out var kib) ? kib * 1024 : 0;
        }

        return 0;
    }

    /// <summary>Total RSS of the processes of one kind right now.</summary>
    public long ResidentBytes(string kind)
    {
        long total = 0;
        foreach (var sample in Sample())
        {
            if (sample.Kind == kind)
            {
                total += sample.RssBytes;
            }
        }

        return total;
    }

    /// <summary>The generator's own CPU% over a window, from its total processor time.</summary>
    public static double GeneratorCpuPercent(TimeSpan processorTimeBefore, TimeSpan processorTimeAfter, TimeSpan window) =>
        window <= TimeSpan.Zero ? 0 : Math.Round((processorTimeAfter - processorTimeBefore) / window * 100, 1);

    public static TimeSpan GeneratorProcessorTime()
    {
        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime;
    }

    internal ProcessKind? KindOf(string commandLine)
    {
        if (commandLine.Length == 0)
        {
            return null;
        }

        var programEnd = commandLine.IndexOf('\0', StringComparison.Ordinal);
        var program = programEnd < 0 ? commandLine : commandLine[..programEnd];

        // A backend's rewritten title is one string with spaces ("postgres: bench bench ...").
        var programName = Path.GetFileName(program.Split(' ', 2)[0].TrimEnd(':'));
        foreach (var kind in _kinds)
        {
            var matches = kind.MatchProgramNameOnly
                ? programName == kind.CommandLineMarker
                : commandLine.Contains(kind.CommandLineMarker, StringComparison.Ordinal);
            if (matches)
            {
                return kind;
            }
        }

        return null;
    }

    /// <summary>/proc/[pid]/stat: fields after the parenthesised command name; utime and stime are 14th and 15th.</summary>
    internal static bool TryParseCpuTicks(string stat, out long cpuTicks)
    {
        cpuTicks = 0;
        var afterName = stat.LastIndexOf(')');
        if (afterName < 0)
        {
            return false;
        }

        // The name may hold spaces and parentheses: split only what follows its last ')'.
        var fields = stat[(afterName + 2)..].Split(' ');
        if (fields.Length <= StatSystemTimeField - StatStateField
            || !long.TryParse(fields[StatUserTimeField - StatStateField], NumberStyles.None, CultureInfo.InvariantCulture, out var user)
            || !long.TryParse(fields[StatSystemTimeField - StatStateField], NumberStyles.None, CultureInfo.InvariantCulture, out var system))
        {
            return false;
        }

        cpuTicks = user + system;
        return true;
    }

    private static double CpuPercent(long ticks, TimeSpan window) =>
        window <= TimeSpan.Zero ? 0 : Math.Round(ticks / ClockTicksPerSecond / window.TotalSeconds * 100, 1);

    private static string ReadCommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline");
        }
        catch (IOException)
        {
            return string.Empty;
        }
        catch (UnauthorizedAccessException)
        {
            return string.Empty;
        }
    }

    private static bool TryReadUsage(int pid, out long cpuTicks, out long rssBytes)
    {
        cpuTicks = 0;
        rssBytes = 0;
        try
        {
            if (!TryParseCpuTicks(File.ReadAllText($"/proc/{pid}/stat"), out cpuTicks))
            {
                return false;
            }

            // statm: size resident shared ... in pages.
            var statm = File.ReadAllText($"/proc/{pid}/statm").Split(' ');
            rssBytes = long.Parse(statm[1], NumberStyles.None, CultureInfo.InvariantCulture) * Environment.SystemPageSize;
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            // The process ended between listing and reading.
            return false;
        }
    }
}
