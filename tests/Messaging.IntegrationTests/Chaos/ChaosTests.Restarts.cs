using System.Diagnostics;
using Messaging.IntegrationTests.EndToEnd;
using Messaging.IntegrationTests.Harness;

namespace Messaging.IntegrationTests.Chaos;

/// <summary>
/// The faults of <c>make chaos</c> only: a rolling restart with SIGTERM of every service process
/// (issue 14's graceful-drain bullet under load), and restarts of the Kafka broker and of
/// PostgreSQL. Those two run only on a stack instance the suite owns (<c>CHAOS_OWN_STACK=1</c>
/// with <c>MESSAGING_STACK_DIR</c>: make chaos starts one on other ports and deletes it after),
/// never on the shared stack of <c>make run</c> or of a <c>make test</c> run.
/// </summary>
public sealed partial class ChaosTests
{
    private static readonly bool OwnStack =
        Environment.GetEnvironmentVariable("CHAOS_OWN_STACK") == "1" && !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("MESSAGING_STACK_DIR"));

    /// <summary>Starting the JVM broker again and its partition leaders on a loaded machine.</summary>
    private static readonly TimeSpan StackTimeout = TimeSpan.FromSeconds(180);

    private IEnumerable<Fault> FullOnlyFaults()
    {
        if (!Full)
        {
            yield break;
        }

        yield return new("rolling restart, SIGTERM (Edge node 1, both Routers, Projections)", RollingRestartAsync, () => Task.CompletedTask, TimeSpan.Zero);
        if (OwnStack)
        {
            yield return new("Kafka broker restart", () => StackAsync("stop", "kafka"), () => StackAsync("up"));
            yield return new("PostgreSQL restart", () => StackAsync("stop", "postgres"), () => StackAsync("up"));
        }
    }

    /// <summary>One service after the other, each drained (SIGTERM) and started again before the next.</summary>
    private async Task RollingRestartAsync()
    {
        (await _node1!.TerminateAsync(Timeout)).Should().Be(0, "Edge node 1 drains and exits cleanly");
        _node1 = await EdgeProcess.StartAsync(_system.Settings, node: 1);
        for (var i = 0; i < _routers.Length; i++)
        {
            (await _routers[i].TerminateAsync(Timeout)).Should().Be(0, "a Router flushes, commits and exits cleanly");
            _routers[i] = StartService("Router", _routerSettings);
            var restarted = _routers[i];
            // The next Router stops only once this one owns partitions again: one process down at a time.
            await Eventually.TrueAsync(() => Task.FromResult(restarted.Output.Contains("Assigned", StringComparison.Ordinal)), Timeout, "the restarted Router owning partitions");
        }

        (await _projections.TerminateAsync(Timeout)).Should().Be(0, "Projections commit the page in hand and exit cleanly");
        _projections = StartService("Projections", _system.Settings);
    }

    /// <summary>On a failure of <c>make chaos</c>: every service process's output beside the report, to read what went wrong.</summary>
    private void KeepProcessOutputs()
    {
        var report = Environment.GetEnvironmentVariable("CHAOS_REPORT");
        if (string.IsNullOrEmpty(report))
        {
            return;
        }

        var directory = Path.GetDirectoryName(report)!;
        foreach (var process in _processes)
        {
            File.WriteAllText(Path.Combine(directory, $"chaos-failed-{process.Id}.log"), process.Output);
        }

        if (_node1 is not null)
        {
            File.WriteAllText(Path.Combine(directory, "chaos-failed-edge-1.log"), _node1.Output);
        }
    }

    /// <summary>Runs <c>infra/scripts/stack.sh</c> on the suite's own instance (its environment came from make chaos).</summary>
    private async Task StackAsync(params string[] args)
    {
        OwnStack.Should().BeTrue("the suite restarts only a stack instance of its own");
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(ServiceProcess.RepoRoot(), "infra", "scripts", "stack.sh"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(StackTimeout);
        await process.WaitForExitAsync(limit.Token);
        process.ExitCode.Should().Be(0, $"stack.sh {string.Join(' ', args)}: {await output}{await errors}");
        _notes.Add($"stack.sh {string.Join(' ', args)} at {_clock.Elapsed.TotalSeconds:0.0} s");
    }
}
