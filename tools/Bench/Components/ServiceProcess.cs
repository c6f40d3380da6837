using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace Messaging.Bench.Components;

/// <summary>
/// A service (<c>dotnet Messaging.X.dll</c>) started by the bench as its own OS process, so its CPU
/// and memory are its own; the last lines of its output are kept to explain a failure.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private const int KeptLines = 200;
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(15);
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private readonly Action<string>? _echo;

    private ServiceProcess(Process process, string assembly, Action<string>? echo)
    {
        _process = process;
        _echo = echo;
        Assembly = assembly;
        StartedAt = Stopwatch.GetTimestamp();
    }

    public int Id => _process.Id;

    public string Assembly { get; }

    public long StartedAt { get; }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>The last lines the process wrote (stdout and stderr interleaved).</summary>
    public string OutputTail => string.Join('\n', _output);

    /// <summary>Starts the assembly; <paramref name="echo"/>, when given, also receives every output line (a command whose progress the user should see).</summary>
    public static ServiceProcess Start(string assembly, IEnumerable<string> arguments, IReadOnlyDictionary<string, string> environment, Action<string>? echo = null)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(assembly)!,
        };
        info.ArgumentList.Add(assembly);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var service = new ServiceProcess(process, assembly, echo);
        process.OutputDataReceived += (_, e) => service.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => service.Keep(e.Data);
        if (!process.Start())
        {
            throw new InvalidOperationException($"could not start dotnet {assembly}");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return service;
    }

    public Task WaitForExitAsync(CancellationToken cancellationToken) => _process.WaitForExitAsync(cancellationToken);

    /// <summary>SIGTERM (the host stops its workers and leaves the consumer group), SIGKILL if it has not exited in time.</summary>
    public async Task StopAsync()
    {
        if (_process.HasExited)
        {
            return;
        }

        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        using var grace = new CancellationTokenSource(StopGrace);
        try
        {
            await _process.WaitForExitAsync(grace.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _process.Dispose();
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        _echo?.Invoke(line);
        _output.Enqueue(line);
        while (_output.Count > KeptLines)
        {
            _output.TryDequeue(out _);
        }
    }
}
