using System.CommandLine;
using Messaging.Bench.Results;
using Spectre.Console;

namespace Messaging.Bench.Charts;

public static class ChartCommand
{
    public static Command Create()
    {
        var input = new Option<string>("--input") { Description = "a bench/results/*.jsonl file", Required = true };
        var output = new Option<string>("--output") { Description = "the SVG to write", DefaultValueFactory = _ => Path.Combine("docs", "bench-chart.svg") };
        var command = new Command("chart", "Render the chart of a results file again (latency percentiles and throughput vs offered rate)") { input, output };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var steps = await ResultLog.ReadAsync(parse.GetValue(input)!, cancellationToken);
            if (steps.Count == 0)
            {
                AnsiConsole.MarkupLine("[red]no step results in that file[/]");
                return 1;
            }

            var path = parse.GetValue(output)!;
            await File.WriteAllBytesAsync(path, BenchChart.Render(steps, $"Messaging {steps[0].Scenario}: latency and throughput vs offered load"), cancellationToken);
            AnsiConsole.MarkupLineInterpolated($"wrote [blue]{path}[/] ({steps.Count} steps)");
            return 0;
        });
        return command;
    }
}
