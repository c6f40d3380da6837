using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Messaging.IntegrationTests.Harness;

namespace Messaging.IntegrationTests.EndToEnd;

/// <summary>
/// An Edge node as its own OS process (the built <c>Messaging.Edge.dll</c>), so a test can kill
/// it with SIGKILL: no disconnect handling, no offline announcements, sockets just vanish. It gets
/// the system's settings as environment variables, on a free port of 127.0.0.1.
/// </summary>
internal sealed class EdgeProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private EdgeProcess(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public Uri WebSocketUri => new UriBuilder(BaseAddress) { Scheme = "ws", Path = "/ws" }.Uri;

    public string Output => string.Join('\n', _output);

    /// <summary>Starts node <paramref name="node"/> with <paramref name="settings"/> and returns once it answers <c>/health/ready</c>.</summary>
    public static async Task<EdgeProcess> StartAsync(IReadOnlyDictionary<string, string?> settings, int node)
    {
        var dll = EdgeDll();
        var baseAddress = new Uri($"http://127.0.0.1:{FreePort().ToString(CultureInfo.InvariantCulture)}");
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(dll);
        foreach (var (key, value) in settings)
        {
            if (value is not null)
            {
                info.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
            }
        }

        info.Environment["Edge__NodeId"] = node.ToString(CultureInfo.InvariantCulture);
        info.Environment["Urls"] = baseAddress.ToString().TrimEnd('/');
        info.Environment.Remove("ASPNETCORE_URLS");

        var process = new Process { StartInfo = info };
        var edge = new EdgeProcess(process, baseAddress);
        process.OutputDataReceived += (_, e) => edge.Append(e.Data);
        process.ErrorDataReceived += (_, e) => edge.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var http = new HttpClient { BaseAddress = baseAddress };
        await Eventually.TrueAsync(
            async () =>
            {
                if (process.HasExited)
                {
                    throw new InvalidOperationException($"Edge node {node} exited with {process.ExitCode}:\n{edge.Output}");
                }

                try
                {
                    using var response = await http.GetAsync(new Uri("/health/ready", UriKind.Relative));
                    return response.StatusCode == HttpStatusCode.OK;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            },
            StartTimeout,
            $"Edge node {node} process ready at {baseAddress}");
        return edge;
    }

    /// <summary>SIGKILL: the node cannot withdraw its sessions; they expire with their lease.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            _output.Enqueue(line);
        }
    }

    /// <summary>A port nothing listens on now: the kernel picks it for a listener on port 0, which is then closed.</summary>
    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        finally
        {
            listener.Stop();
        }
    }

    /// <summary>The Edge build next to this test build (same configuration), found from Messaging.sln upwards.</summary>
    private static string EdgeDll()
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

        if (root is null)
        {
            throw new InvalidOperationException($"No Messaging.sln above {baseDirectory} (set MESSAGING_REPO_ROOT).");
        }

        var configuration = baseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
        var dll = Path.Combine(root, "src", "Edge", "bin", configuration, "net10.0", "linux-x64", "Messaging.Edge.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"Build Edge first ({configuration}).", dll);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            // SIGTERM lets the host close its sockets and withdraw its sessions.
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
