using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Messaging.Projections.Rebuild;
using Messaging.ReadModels.Checkpoints;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Messaging.Projections.Cli;

/// <summary>
/// Prints the plan as a table, then progress per partition: records/s and ETA. On a terminal a
/// live Spectre <see cref="Progress"/> display, one bar per partition plus one for all of them;
/// otherwise (CI, a log file) a plain line per partition every interval, so the output stays
/// readable in a log. Rates count only what this run did (a resumed rebuild starts its bars at
/// what is already done, but not its rate).
/// </summary>
internal sealed class ConsoleRebuildProgress(IAnsiConsole console, TimeSpan interval) : IRebuildProgress
{
    private readonly Dictionary<PartitionKey, State> _partitions = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly bool _interactive = console.Profile.Capabilities.Interactive && !Console.IsOutputRedirected;
    private readonly Lock _gate = new();
    private TimeSpan _lastPrint;
    private LiveDisplay? _live;
    private long _remaining;
    private bool _phased;

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
        _remaining = plan.Remaining;
    }

    public void Phase(string text)
    {
        // Started by the first phase, not by the plan: a dry run prints the plan and nothing else.
        _phased = true;
        if (_interactive && _live is null && _remaining > 0)
        {
            _live = LiveDisplay.Start(console, _partitions, _clock);
        }

        if (_live is not null)
        {
            // A live display owns the terminal: the phase is its header row instead of a line.
            _live.Phase(text);
            return;
        }

        // The elapsed time tells an operator (and a profile) which phase the time went to.
        console.MarkupLineInterpolated($"[bold]{text}[/] [grey](at {_clock.Elapsed.TotalSeconds:0.0} s)[/]");
    }

    public void Advanced(PartitionKey partition, long position)
    {
        if (!_partitions.TryGetValue(partition, out var state))
        {
            return;
        }

        lock (_gate)
        {
            state.Position = position;
            if (_live is not null)
            {
                _live.Advanced(state);
                return;
            }

            if (_clock.Elapsed - _lastPrint < interval)
            {
                return;
            }

            _lastPrint = _clock.Elapsed;
            Print();
        }
    }

    /// <summary>Stops the live display (also after Ctrl-C or a failure) or prints the last lines.</summary>
    public void Finish()
    {
        if (_live is not null)
        {
            _live.Stop();
            _live = null;
            return;
        }

        // A dry run (no phase) did nothing: progress lines of zeros would only suggest it had.
        if (_phased && _partitions.Count > 0)
        {
            lock (_gate)
            {
                Print();
            }
        }
    }

    private void Print()
    {
        var seconds = Math.Max(_clock.Elapsed.TotalSeconds, 0.001);
        long done = 0;
        long remaining = 0;
        foreach (var (key, s) in _partitions)
        {
            done += s.DoneThisRun;
            remaining += s.Left;
            var rate = s.DoneThisRun / seconds;
            console.WriteLine($"{key} {N(s.Position - s.Plan.Earliest)}/{N(s.Plan.Total)} {N((long)rate)} rec/s ETA {Eta(RebuildPlan.Eta(s.Left, rate))}");
        }

        var total = done / seconds;
        console.WriteLine($"all {N(done)} done, {N((long)total)} rec/s, ETA {Eta(RebuildPlan.Eta(remaining, total))}");
    }

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string Eta(TimeSpan? eta) => eta is TimeSpan t ? t.ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture) : "?";

    private sealed class State(PartitionPlan plan, long position)
    {
        public PartitionPlan Plan { get; } = plan;

        public long Position { get; set; } = position;

        public long DoneThisRun => Math.Max(0, Position - Plan.Position);

        public long Left => Math.Max(0, Plan.End - Math.Max(Position, Plan.Earliest));
    }

    /// <summary>
    /// The terminal display: Spectre's <see cref="Progress"/> runs on its own task and refreshes
    /// itself; the rebuild only moves the bars' values. Rate and ETA are the same arithmetic as
    /// the plain lines (records this run / seconds this run), not Spectre's sampled speed, which
    /// would count the already-done part of a resumed partition as one instant burst.
    /// </summary>
    private sealed class LiveDisplay
    {
        private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
        // Filled on the display's task while its refresh thread may already render: concurrent.
        private readonly ConcurrentDictionary<int, Func<(long Done, long Left)>> _rows = new();
        private readonly ConcurrentDictionary<PartitionKey, ProgressTask> _bars = new();
        private Task _display = Task.CompletedTask;
        private ProgressTask? _all;
        private ProgressTask? _phase;

        public static LiveDisplay Start(IAnsiConsole console, Dictionary<PartitionKey, State> partitions, Stopwatch clock)
        {
            var live = new LiveDisplay();
            var progress = console.Progress()
                .AutoClear(false)
                .HideCompleted(false)
                .Columns(
                    new TaskDescriptionColumn { Alignment = Justify.Left },
                    new ProgressBarColumn(),
                    new PercentageColumn(),
                    new CountColumn(),
                    new RateColumn(live._rows, clock),
                    new EtaColumn(live._rows, clock));
            live._display = progress.StartAsync(async ctx =>
            {
                live._phase = ctx.AddTask("starting", maxValue: 1);
                live._phase.IsIndeterminate = true;
                long total = 0;
                long done = 0;
                foreach (var (key, s) in partitions)
                {
                    var bar = ctx.AddTask(key.ToString(), maxValue: Math.Max(1, s.Plan.Total));
                    bar.Value = s.Plan.Done;
                    live._bars[key] = bar;
                    live._rows[bar.Id] = () => (s.DoneThisRun, s.Left);
                    total += s.Plan.Total;
                    done += s.Plan.Done;
                }

                live._all = ctx.AddTask("all", maxValue: Math.Max(1, total));
                live._all.Value = done;
                live._rows[live._all.Id] = () =>
                {
                    long d = 0;
                    long l = 0;
                    foreach (var s in partitions.Values)
                    {
                        d += s.DoneThisRun;
                        l += s.Left;
                    }

                    return (d, l);
                };
                live._ready.TrySetResult();
                await live._stopped.Task;
                live._phase.StopTask();
            });
            // Bars exist before the first record is applied: the display's first frame is immediate.
            live._ready.Task.Wait(TimeSpan.FromSeconds(5));
            return live;
        }

        public void Phase(string text)
        {
            if (_phase is not null)
            {
                _phase.Description = Markup.Escape(text);
            }
        }

        public void Advanced(State state)
        {
            if (!_bars.TryGetValue(state.Plan.Partition, out var bar) || _all is null)
            {
                return;
            }

            var delta = (state.Position - state.Plan.Earliest) - bar.Value;
            bar.Value = state.Position - state.Plan.Earliest;
            _all.Increment(delta);
        }

        public void Stop()
        {
            _stopped.TrySetResult();
            _display.GetAwaiter().GetResult();
        }
    }

    private sealed class CountColumn : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
            new Text($"{N((long)task.Value)}/{N((long)task.MaxValue)}");
    }

    private sealed class RateColumn(ConcurrentDictionary<int, Func<(long Done, long Left)>> rows, Stopwatch clock) : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
            rows.TryGetValue(task.Id, out var row)
                ? new Text($"{N((long)(row().Done / Math.Max(clock.Elapsed.TotalSeconds, 0.001)))} rec/s")
                : Text.Empty;
    }

    private sealed class EtaColumn(ConcurrentDictionary<int, Func<(long Done, long Left)>> rows, Stopwatch clock) : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime)
        {
            if (!rows.TryGetValue(task.Id, out var row))
            {
                return Text.Empty;
            }

            var (done, left) = row();
            return new Text($"ETA {Eta(RebuildPlan.Eta(left, done / Math.Max(clock.Elapsed.TotalSeconds, 0.001)))}");
        }
    }
}
