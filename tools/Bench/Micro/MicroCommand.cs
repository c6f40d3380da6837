using System.CommandLine;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace Messaging.Bench.Micro;

/// <summary>
/// BenchmarkDotNet micro-benchmarks of the per-message hot paths, with allocations per operation.
/// Arguments after the flags go to BenchmarkDotNet (e.g. <c>--filter *Router*</c>).
/// </summary>
public static class MicroCommand
{
    public static Command Create()
    {
        var outOfProcess = new Option<bool>("--out-of-process")
        {
            Description = "build and run each benchmark in its own process (BenchmarkDotNet's default toolchain; slower, needs the SDK). Default: in-process",
        };
        var longRun = new Option<bool>("--long") { Description = "BenchmarkDotNet's default job instead of the short run (more iterations, tighter error)" };
        var artifacts = new Option<string>("--artifacts")
        {
            Description = "where BenchmarkDotNet writes its reports (markdown, CSV, log)",
            DefaultValueFactory = _ => Path.Combine("bench", "micro"),
        };
        var command = new Command("micro", "BenchmarkDotNet [MemoryDiagnoser] benchmarks: frame parsing/serialization, delivery records, router decision")
        {
            outOfProcess, longRun, artifacts,
        };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(parse =>
        {
            var job = parse.GetValue(longRun) ? Job.Default : Job.ShortRun;

            // In-process by default: the default toolchain generates and builds a project per run
            // under this repository's Directory.Build.props (warnings as errors), which is slow on
            // two cores and fails on the generated code's style.
            if (!parse.GetValue(outOfProcess))
            {
                job = job.WithToolchain(InProcessEmitToolchain.Instance);
            }

            var config = DefaultConfig.Instance
                .AddJob(job)
                .AddDiagnoser(MemoryDiagnoser.Default)
                .WithOptions(ConfigOptions.JoinSummary)
                .WithArtifactsPath(parse.GetValue(artifacts) ?? Path.Combine("bench", "micro"));
            var summaries = BenchmarkSwitcher
                .FromTypes([typeof(FrameBenchmarks), typeof(DeliveryRecordBenchmarks), typeof(RouterDecisionBenchmarks)])
                .Run(BenchmarkArguments(parse.UnmatchedTokens), config);
            foreach (var summary in summaries)
            {
                if (summary.HasCriticalValidationErrors)
                {
                    return 1;
                }
            }

            return 0;
        });
        return command;
    }

    /// <summary>Everything unless a filter was given: with no arguments BenchmarkDotNet would prompt for a choice.</summary>
    private static string[] BenchmarkArguments(IReadOnlyList<string> passedThrough)
    {
        foreach (var argument in passedThrough)
        {
            if (argument.StartsWith("--filter", StringComparison.Ordinal) || argument == "-f")
            {
                return [.. passedThrough];
            }
        }

        return [.. passedThrough, "--filter", "*"];
    }
}
