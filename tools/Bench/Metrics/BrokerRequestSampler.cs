using System.Diagnostics;
using System.Globalization;

namespace Messaging.Bench.Metrics;

/// <summary>Requests per second one service sent to the broker over a window, and over how many connections.</summary>
public sealed record BrokerRequests(string Process, int Connections, double RequestsPerSecond);

/// <summary>One client socket to the broker at one instant: its owner, its local address and the data segments it has sent.</summary>
public readonly record struct BrokerSocket(int Pid, string Local, long SegmentsSent);

/// <summary>
/// Counts what each service asks the broker: the TCP data segments its sockets to the broker's port
/// have sent (<c>ss -tinp</c>'s <c>data_segs_out</c>). On loopback (64 KiB segments) that is one per
/// Kafka request, except a produce request larger than a segment. Kafka's CPU follows its request
/// count more than its bytes: at 500 and at 2,000 sends/s it was ~50 % of a core for ~3,500
/// requests/s either way (docs/benchmarks.md, "sixth session"), so every step reports it per service.
/// Linux with iproute2's <c>ss</c> only; elsewhere it reports nothing.
/// </summary>
public sealed class BrokerRequestSampler
{
    private readonly int _port;
    private readonly IReadOnlyDictionary<int, string> _services;

    public BrokerRequestSampler(int port, IReadOnlyDictionary<int, string> services)
    {
        _port = port;
        _services = services;
    }

    /// <summary>
    /// A sampler for the first broker of <paramref name="bootstrapServers"/> (<c>host:port,…</c>, as
    /// <c>Kafka__BootstrapServers</c> gives it to the services), or null without a port or without
    /// the services' pids (other processes' sockets would be counted as theirs).
    /// </summary>
    public static BrokerRequestSampler? Create(string? bootstrapServers, IReadOnlyDictionary<int, string>? services)
    {
        if (services is null || string.IsNullOrWhiteSpace(bootstrapServers) || !OperatingSystem.IsLinux())
        {
            return null;
        }

        var first = bootstrapServers.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)[0];
        var colon = first.LastIndexOf(':');
        return colon > 0 && int.TryParse(first.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            ? new BrokerRequestSampler(port, services)
            : null;
    }

    /// <summary>The established client sockets to the broker's port now; empty when <c>ss</c> cannot run.</summary>
    public IReadOnlyList<BrokerSocket> Sample()
    {
        try
        {
            var start = new ProcessStartInfo("ss")
            {
                RedirectStandardOutput = true,
                UseShellExecute = false,
            };
            foreach (var argument in new[] { "-tinpH", "state", "established", string.Create(CultureInfo.InvariantCulture, $"( dport = :{_port} )") })
            {
                start.ArgumentList.Add(argument);
            }

            using var process = Process.Start(start);
            if (process is null)
            {
                return [];
            }

            var output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return Parse(output);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return [];
        }
    }

    /// <summary>
    /// Reads <c>ss -tinpH</c> output: each socket is a line with the local and peer address and
    /// <c>users:(("name",pid=N,fd=M))</c>, then an indented line of TCP counters. A socket without
    /// a pid (not ours to see) or without <c>data_segs_out</c> (nothing sent yet: 0) is kept as such.
    /// </summary>
    public static IReadOnlyList<BrokerSocket> Parse(string output)
    {
        var sockets = new List<BrokerSocket>();
        int? pid = null;
        string? local = null;
        foreach (var line in output.Split('\n'))
        {
            if (line.Length == 0)
            {
                continue;
            }

            if (!char.IsWhiteSpace(line[0]))
            {
                Add();
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                local = fields.Length >= 4 ? fields[2] : null;
                pid = Number(line, "pid=") is long p ? (int)p : null;
                continue;
            }

            if (local is not null && pid is int owner)
            {
                sockets.Add(new BrokerSocket(owner, local, Number(line, "data_segs_out:") ?? 0));
                local = null;
            }
        }

        Add();
        return sockets;

        void Add()
        {
            if (local is not null && pid is int owner)
            {
                sockets.Add(new BrokerSocket(owner, local, 0));
            }

            local = null;
        }
    }

    /// <summary>
    /// Requests per second of each service between two samples (a socket opened in between counts
    /// from zero, one closed in between is not counted), sorted by name; the last line is <c>total</c>.
    /// </summary>
    public IReadOnlyList<BrokerRequests> PerProcess(IReadOnlyList<BrokerSocket> before, IReadOnlyList<BrokerSocket> after, TimeSpan window)
    {
        var start = new Dictionary<(int, string), long>(before.Count);
        foreach (var socket in before)
        {
            start[(socket.Pid, socket.Local)] = socket.SegmentsSent;
        }

        var perService = new SortedDictionary<string, (int Connections, long Requests)>(StringComparer.Ordinal);
        foreach (var socket in after)
        {
            if (!_services.TryGetValue(socket.Pid, out var name))
            {
                continue;
            }

            var sent = socket.SegmentsSent - start.GetValueOrDefault((socket.Pid, socket.Local));
            var (connections, requests) = perService.GetValueOrDefault(name);
            perService[name] = (connections + 1, requests + Math.Max(0, sent));
        }

        var seconds = Math.Max(window.TotalSeconds, 1e-9);
        var lines = new List<BrokerRequests>(perService.Count + 1);
        var totalConnections = 0;
        long totalRequests = 0;
        foreach (var (name, (connections, requests)) in perService)
        {
            lines.Add(new BrokerRequests(name, connections, Math.Round(requests / seconds, 1)));
            totalConnections += connections;
            totalRequests += requests;
        }

        lines.Add(new BrokerRequests("total", totalConnections, Math.Round(totalRequests / seconds, 1)));
        return lines;
    }

    private static long? Number(string line, string label)
    {
        var at = line.IndexOf(label, StringComparison.Ordinal);
        if (at < 0)
        {
            return null;
        }

        var from = at + label.Length;
        var to = from;
        while (to < line.Length && char.IsAsciiDigit(line[to]))
        {
            to++;
        }

        return long.TryParse(line.AsSpan(from, to - from), NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;
    }
}
