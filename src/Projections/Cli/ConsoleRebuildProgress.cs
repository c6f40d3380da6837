using System.Diagnostics;
using System.Globalization;
using Messaging.Projections.Checkpoints;
using Messaging.Projections.Rebuild;
using Spectre.Console;

namespace Messaging.Projections.Cli;

/// <summary>
/// Prints the plan as a table, then progress per partition every interval: records/s and ETA.
/// On a terminal as a Spectre table; otherwise (CI, a log file) a plain line per partition every
/// interval, so the output stays readable in a log.
/// </summary>
internal sealed class ConsoleRebuildProgress(IAnsiConsole console, TimeSpan interval) : IRebuildProgress
{
    private readonly Dictionary<PartitionKey, State> _partitions = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly bool _interactive = console.Profile.Capabilities.Interactive && !Console.IsOutputRedirected;
    private TimeSpan _lastPrint;

    public void Planned(string projection, RebuildPlan plan)
    {
        var table = new Table().Title($"rebuild {projection}").AddColumns("topic", "partition", "earliest", "end", "records", "start at", "remaining");
        foreach (var p in plan.Partitions)
        {
            table.AddRow(p.Partition.Topic, N(p.Partition.Partition), N(p.Earliest), N(p.End), N(p.Total), N(p.Position), N(p.Remaining));
            _partitions[p.Partition] = new State(p, p.Position);
        }

        table.AddRow("total", "", "", "", N(plan.Total), "", N(plan.Remaining));
        console.Write(table);
    }

    public void Phase(string text) => console.MarkupLineInterpolated($"[bold]{text}[/]");

    public void Advanced(PartitionKey partition, long position)
    {
        if (!_partitions.TryGetValue(partition, out var state))
        {
            return;
        }

        state.Position = position;
        if (_clock.Elapsed - _lastPrint < interval)
        {
            return;
        }

        _lastPrint = _clock.Elapsed;
        Print();
    }

    public void Finish()
    {
        if (_partitions.Count > 0)
        {
            Print();
        }
    }

    private void Print()
    {
        var seconds = Math.Max(_clock.Elapsed.TotalSeconds, 0.001);
        long done = 0;
        long remaining = 0;
        var table = new Table().AddColumns("partition", "done", "total", "records/s", "ETA");
        foreach (var (key, s) in _partitions)
        {
            var partitionDone = Math.Max(0, s.Position - s.Plan.Position);
            var left = Math.Max(0, s.Plan.End - Math.Max(s.Position, s.Plan.Earliest));
            done += partitionDone;
            remaining += left;
            var rate = partitionDone / seconds;
            var eta = RebuildPlan.Eta(left, rate);
            if (_interactive)
            {
                table.AddRow(key.ToString(), N(s.Position - s.Plan.Earliest), N(s.Plan.Total), N((long)rate), Eta(eta));
            }
            else
            {
                console.WriteLine($"{key} {N(s.Position - s.Plan.Earliest)}/{N(s.Plan.Total)} {N((long)rate)} rec/s ETA {Eta(eta)}");
            }
        }

        var total = done / seconds;
        if (_interactive)
        {
            table.AddRow("all", N(done), "", N((long)total), Eta(RebuildPlan.Eta(remaining, total)));
            console.Write(table);
        }
        else
        {
            console.WriteLine($"all {N(done)} done, {N((long)total)} rec/s, ETA {Eta(RebuildPlan.Eta(remaining, total))}");
        }
    }

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string Eta(TimeSpan? eta) => eta is TimeSpan t ? t.ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture) : "?";

    private sealed class State(PartitionPlan plan, long position)
    {
        public PartitionPlan Plan { get; } = plan;

        public long Position { get; set; } = position;
    }
}
