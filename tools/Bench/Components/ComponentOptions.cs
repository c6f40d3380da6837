using System.Globalization;
using System.Text.RegularExpressions;

namespace Messaging.Bench.Components;

/// <summary>What both component benchmarks are parameterised by besides the backlog's shape; each field is a flag.</summary>
public sealed partial record ComponentOptions
{
    /// <summary>The local stack's broker (<c>infra/scripts/stack.sh env</c>), used when neither the flag nor the environment names one.</summary>
    public const string LocalBootstrapServers = "127.0.0.1:29092";

    /// <summary>The local stack's database (<c>stack.sh env</c>).</summary>
    public const string LocalConnectionString = "Host=127.0.0.1;Port=25432;Username=postgres;Database=messaging";

    public required string BootstrapServers { get; init; }

    public required string KafkaProfile { get; init; }

    public required string TopicPrefix { get; init; }

    /// <summary>The service assembly to start; null: the clone's Release build, else its Debug build.</summary>
    public string? ServicePath { get; init; }

    /// <summary>Extra service configuration as environment variables (<c>Router__MaxBatch=5000</c>).</summary>
    public IReadOnlyDictionary<string, string> ServiceSettings { get; init; } = new Dictionary<string, string>();

    /// <summary>librdkafka settings of the pre-fill producer on top of <see cref="BacklogProducer.DefaultSettings"/>.</summary>
    public IReadOnlyDictionary<string, string> ProducerSettings { get; init; } = new Dictionary<string, string>();

    /// <summary>How often progress (committed offsets, checkpoints) is read while the service works.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan ProgressInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Give up when the service has not finished the backlog after this long.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(10);

    public string ResultsDirectory { get; init; } = Path.Combine("bench", "results");

    /// <summary>A fresh namespace per run, so the backlog is exactly what this run wrote: <c>bench-20261122T040000.</c>.</summary>
    public static string DefaultTopicPrefix(DateTimeOffset at) =>
        "bench-" + at.UtcDateTime.ToString("yyyyMMdd'T'HHmmss", CultureInfo.InvariantCulture) + ".";

    /// <summary>A fresh PostgreSQL schema per run: <c>bench_20261122t040000</c> (unquoted identifiers are lower case).</summary>
    public static string DefaultSchema(DateTimeOffset at) =>
        "bench_" + at.UtcDateTime.ToString("yyyyMMdd't'HHmmss", CultureInfo.InvariantCulture);

    /// <summary>A schema name the bench may put into DDL unquoted-safe: lower-case letters, digits, underscores.</summary>
    public static bool IsPlainIdentifier(string name) => PlainIdentifier().IsMatch(name);

    /// <summary>
    /// <c>Router:MaxBatch=5000</c> (or already <c>Router__MaxBatch=5000</c>) → the environment
    /// variable <c>Router__MaxBatch</c> = <c>5000</c>; false with a message otherwise.
    /// </summary>
    public static bool TryParseSetting(string text, out string key, out string value, out string? error)
    {
        var equals = text.IndexOf('=', StringComparison.Ordinal);
        key = equals > 0 ? text[..equals].Trim().Replace(":", "__", StringComparison.Ordinal) : string.Empty;
        value = equals > 0 ? text[(equals + 1)..] : string.Empty;
        error = equals > 0 && key.Length > 0 ? null : $"'{text}' is not KEY=VALUE (e.g. Router:MaxBatch=5000)";
        return error is null;
    }

    /// <summary>Parses repeated KEY=VALUE flags; the last one of a key wins.</summary>
    public static bool TryParseSettings(IEnumerable<string> texts, bool configurationKeys, out Dictionary<string, string> settings, out string? error)
    {
        settings = new Dictionary<string, string>(StringComparer.Ordinal);
        error = null;
        foreach (var text in texts)
        {
            if (!TryParseSetting(text, out var key, out var value, out error))
            {
                return false;
            }

            // librdkafka keys contain dots, never colons: only configuration keys become environment names.
            settings[configurationKeys ? key : text[..text.IndexOf('=', StringComparison.Ordinal)].Trim()] = value;
        }

        return true;
    }

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$")]
    private static partial Regex PlainIdentifier();
}
