using System.Diagnostics;
using Messaging.IntegrationTests.Harness;
using Messaging.Projections.Cli;

namespace Messaging.IntegrationTests.Projections;

/// <summary>
/// <c>make rebuild ARGS=…</c> as docs/operations.md tells a data engineer to run it: the Makefile
/// target, its <c>stack.sh env</c> settings and the built CLI in its own process, from the
/// repository root, without the stack's settings in its environment: only this namespace's
/// schema and topic prefix are added (as a second stack would set them). Before the target existed, the documented command read
/// appsettings.json's 127.0.0.1:5432 and crashed.
/// </summary>
public sealed class MakeRebuildTests : IAsyncLifetime
{
    private ProjectionsTestContext _ctx = null!;

    public async Task InitializeAsync()
    {
        _ctx = await ProjectionsTestContext.CreateAsync();
        await _ctx.MigrateAsync();
        for (var seq = 1; seq <= 5; seq++)
        {
            await _ctx.ProduceAsync(seq == 1 ? Events.Created("make", ["alice"]) : Events.Message("make", seq, "alice"));
        }
    }

    public async Task DisposeAsync() => await _ctx.DisposeAsync();

    [Fact]
    public async Task Make_rebuild_dry_run_prints_the_plan_and_says_nothing_changed()
    {
        var (code, output) = await MakeAsync("--projection chat --dry-run");

        code.Should().Be(0, output);
        output.Should().MatchRegex(@"total\s*│[\s│]*5\s").And.Contain("chat: " + ProjectionsCli.DryRunDone);
        (await _ctx.CountAsync("select count(*) from pg_tables where schemaname = current_schema() and tablename like '%\\_\\_rebuild'")).Should().Be(0);
        (await _ctx.CountAsync("select count(*) from checkpoints")).Should().Be(0);
        (await _ctx.CountAsync("select count(*) from messages")).Should().Be(0);
    }

    [Fact]
    public async Task Make_rebuild_replays_the_log_into_fresh_tables_and_swaps_them_in()
    {
        var (code, output) = await MakeAsync("--projection chat");

        code.Should().Be(0, output);
        output.Should().Contain("swapping tables").And.Contain("done");
        (await _ctx.CountAsync("select count(*) from messages where chat_id = 'make'")).Should().Be(5);
        // The live runner takes over at the rebuild's positions: past all 5 records.
        (await _ctx.CountAsync("select sum(next_offset) from checkpoints where projection = 'chat'")).Should().Be(5);
        (await _ctx.CountAsync("select count(*) from pg_tables where schemaname = current_schema() and tablename like '%\\_\\_rebuild'")).Should().Be(0);
    }

    private async Task<(int Code, string Output)> MakeAsync(string args)
    {
        var info = new ProcessStartInfo("make")
        {
            WorkingDirectory = ServiceProcess.RepoRoot(),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in (string[])["-s", "rebuild", $"ARGS={args}", $"CONFIGURATION={ServiceProcess.Configuration}"])
        {
            info.ArgumentList.Add(arg);
        }

        // What the target must supply itself (this test process has them from infra-env): without
        // them the CLI falls back to appsettings.json and the test fails as the docs' reader did.
        foreach (var supplied in (string[])["Kafka__BootstrapServers", "Kafka__Profile", "ConnectionStrings__Messaging", "ASPNETCORE_ENVIRONMENT", "DOTNET_ENVIRONMENT"])
        {
            info.Environment.Remove(supplied);
        }

        info.Environment["Postgres__Schema"] = _ctx.Namespace.Schema;
        info.Environment["Kafka__TopicPrefix"] = _ctx.Namespace.TopicPrefix;
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}
