using System.CommandLine;
using System.Globalization;
using Messaging.Bench.Connections;

namespace Messaging.Bench.Cli;

/// <summary>Flags several commands share, and parsing helpers for list-valued flags.</summary>
public static class CommonOptions
{
    /// <summary><c>make run</c>'s two Edge nodes (EDGE_PORTS in the Makefile).</summary>
    public static readonly string[] DefaultEdges = ["ws://127.0.0.1:8080", "ws://127.0.0.1:8081"];

    public static Option<string[]> Edges() => new("--edge")
    {
        Description = "WebSocket URL of an Edge node (repeat for each node); tokens come from the same host:port over http",
        DefaultValueFactory = _ => DefaultEdges,
        Arity = ArgumentArity.OneOrMore,
        AllowMultipleArgumentsPerToken = false,
    };

    public static Option<double> Seconds(string name, double defaultSeconds, string description)
    {
        var option = new Option<double>(name)
        {
            Description = description + " (seconds)",
            DefaultValueFactory = _ => defaultSeconds,
        };
        option.Validators.Add(result => RejectNegative(result, name, result.GetValueOrDefault<double>()));
        return option;
    }

    /// <summary>Like <see cref="Seconds"/>, but absent unless given (the caller falls back to another flag).</summary>
    public static Option<double?> OptionalSeconds(string name, string description)
    {
        var option = new Option<double?>(name) { Description = description + " (seconds)" };
        option.Validators.Add(result => RejectNegative(result, name, result.GetValueOrDefault<double?>()));
        return option;
    }

    private static void RejectNegative(System.CommandLine.Parsing.OptionResult result, string name, double? seconds)
    {
        if (seconds < 0)
        {
            result.AddError($"{name} must not be negative");
        }
    }

    public static Option<int> Positive(string name, int defaultValue, string description)
    {
        var option = new Option<int>(name) { Description = description, DefaultValueFactory = _ => defaultValue };
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() <= 0)
            {
                result.AddError($"{name} must be positive");
            }
        });
        return option;
    }

    public static IReadOnlyList<EdgeEndpoint> ParseEdges(string[]? urls) =>
        EdgeEndpoint.ParseAll(urls is { Length: > 0 } ? urls : DefaultEdges);

    /// <summary>Parses <c>250,500,1000</c> (commas or spaces); false with a message for anything else.</summary>
    public static bool TryParseRates(string text, out double[] rates, out string? error)
    {
        var parts = text.Split([',', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        rates = new double[parts.Length];
        error = null;
        if (parts.Length == 0)
        {
            error = "--rates needs at least one rate, e.g. 250,500,1000";
            return false;
        }

        for (var i = 0; i < parts.Length; i++)
        {
            if (!double.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out rates[i]) || rates[i] <= 0)
            {
                error = $"--rates: '{parts[i]}' is not a positive number of messages per second";
                return false;
            }
        }

        return true;
    }
}
