using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Messaging.Bench.Results;

/// <summary>Appends step results as JSON lines (one object per line, UTF-8) and reads them back for charts.</summary>
public sealed class ResultLog
{
    private static readonly byte[] NewLine = "\n"u8.ToArray();

    public ResultLog(string path)
    {
        Path = path;
    }

    public string Path { get; }

    public static ResultLog ForRun(string directory, string scenario, DateTimeOffset startedAt)
    {
        Directory.CreateDirectory(directory);
        var name = $"{scenario}-{startedAt.UtcDateTime:yyyyMMdd'T'HHmmss'Z'}.jsonl";
        return new ResultLog(System.IO.Path.Combine(directory, name));
    }

    public static byte[] ToJsonLine(StepResult result) => ToJsonLine(result, BenchJsonContext.Default.StepResult);

    public static byte[] ToJsonLine(ComponentResult result) => ToJsonLine(result, BenchJsonContext.Default.ComponentResult);

    private static byte[] ToJsonLine<T>(T result, JsonTypeInfo<T> typeInfo)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(result, typeInfo);
        var line = new byte[json.Length + NewLine.Length];
        json.CopyTo(line, 0);
        NewLine.CopyTo(line, json.Length);
        return line;
    }

    public Task AppendAsync(StepResult result, CancellationToken cancellationToken) => AppendLineAsync(ToJsonLine(result), cancellationToken);

    public Task AppendAsync(ComponentResult result, CancellationToken cancellationToken) => AppendLineAsync(ToJsonLine(result), cancellationToken);

    private async Task AppendLineAsync(byte[] line, CancellationToken cancellationToken)
    {
        await using var file = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.Read);
        await file.WriteAsync(line, cancellationToken);
    }

    /// <summary>Every step in the file, skipping lines that are not step results.</summary>
    public static async Task<IReadOnlyList<StepResult>> ReadAsync(string path, CancellationToken cancellationToken)
    {
        var results = new List<StepResult>();
        var bytes = await File.ReadAllBytesAsync(path, cancellationToken);
        ReadOnlyMemory<byte> rest = bytes;
        while (!rest.IsEmpty)
        {
            var end = rest.Span.IndexOf((byte)'\n');
            var line = end < 0 ? rest : rest[..end];
            rest = end < 0 ? ReadOnlyMemory<byte>.Empty : rest[(end + 1)..];
            if (line.Span.Trim(" \r\t"u8).IsEmpty)
            {
                continue;
            }

            try
            {
                if (JsonSerializer.Deserialize(line.Span, BenchJsonContext.Default.StepResult) is { } result)
                {
                    results.Add(result);
                }
            }
            catch (JsonException)
            {
                // A foreign or truncated line (an interrupted run): the chart uses what is whole.
            }
        }

        return results;
    }
}
