using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace Messaging.IntegrationTests.Harness;

/// <summary>
/// A service (Router, Edge, Projections) running as its own OS process from its build output,
/// so a test can kill it with SIGKILL: no revocation handler, no commit, no goodbye. Its console
/// output is kept for diagnosis.
/// </summary>
internal sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private ServiceProcess(Process process)
    {
        _process = process;
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public string Output => string.Join('\n', _output);

    /// <summary>Starts <c>Messaging.{project}.dll</c> with <paramref name="environment"/> (null values are removed).</summary>
    public static ServiceProcess Start(string project, IEnumerable<KeyValuePair<string, string?>> environment)
    {
        var dll = Dll(project);
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(dll);
        foreach (var (key, value) in environment)
        {
            if (value is null)
            {
                info.Environment.Remove(key);
            }
            else
            {
                info.Environment[key] = value;
            }
        }

        var process = new Process { StartInfo = info };
        var service = new ServiceProcess(process);
        process.OutputDataReceived += (_, e) => service.Append(e.Data);
        process.ErrorDataReceived += (_, e) => service.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return service;
    }

    /// <summary>SIGKILL, without waiting.</summary>
    public void Kill() => _process.Kill(entireProcessTree: true);

    /// <summary>SIGKILL, then waits until the process is gone.</summary>
    public async Task KillAsync()
    {
        Kill();
        await _process.WaitForExitAsync();
    }

    /// <summary>SIGTERM (a graceful stop: drain, flush, leave the group), then waits until the process is gone; returns its exit code.</summary>
    public async Task<int> TerminateAsync(TimeSpan timeout)
    {
        Signal("TERM");
        using var limit = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(limit.Token);
        return _process.ExitCode;
    }

    /// <summary>Sends a signal by name (<c>TERM</c>, <c>STOP</c>, <c>CONT</c>) to the process.</summary>
    public void Signal(string name)
    {
        using var kill = Process.Start("kill", [$"-{name}", _process.Id.ToString(CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    /// <summary>
    /// The service build next to this test build: under <see cref="RepoRoot"/>, in the
    /// <see cref="Configuration"/> this test assembly was built in.
    /// </summary>
    public static string Dll(string project)
    {
        var dll = Path.Combine(RepoRoot(), "src", project, "bin", Configuration, "net10.0", "linux-x64", $"Messaging.{project}.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"Build {project} first ({Configuration}).", dll);
    }

    /// <summary>Debug or Release: the configuration this test assembly was built in.</summary>
    public static string Configuration =>
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";

    /// <summary>The repository root: the first directory above this build with Messaging.sln (or MESSAGING_REPO_ROOT).</summary>
    public static string RepoRoot()
    {
        var baseDirectory = AppContext.BaseDirectory;
        var root = Environment.GetEnvironmentVariable("MESSAGING_REPO_ROOT");
        for (var dir = new DirectoryInfo(baseDirectory); root is null && dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Messaging.sln")))
            {
                root = dir.FullName;
            }
        }

        return root ?? throw new InvalidOperationException($"No Messaging.sln above {baseDirectory} (set MESSAGING_REPO_ROOT).");
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            _output.Enqueue(line);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            // SIGTERM lets the host stop cleanly (leave the group, withdraw its sessions).
            using var term = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            try
            {
                await _process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
            }
        }

        _process.Dispose();
    }
}
