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
    private readonly ServiceProcess _process;

    private EdgeProcess(ServiceProcess process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public Uri WebSocketUri => new UriBuilder(BaseAddress) { Scheme = "ws", Path = "/ws" }.Uri;

    public string Output => _process.Output;

    /// <summary>Starts node <paramref name="node"/> with <paramref name="settings"/> and returns once it answers <c>/health/ready</c>.</summary>
    public static async Task<EdgeProcess> StartAsync(IReadOnlyDictionary<string, string?> settings, int node)
    {
        // FreePort's port is free when chosen, not when the node binds it: another process may take
        // it in between, and the node then exits with "address already in use". Another port then.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await StartOnceAsync(settings, node, new Uri($"http://127.0.0.1:{FreePort().ToString(CultureInfo.InvariantCulture)}"));
            }
            catch (InvalidOperationException ex) when (attempt < 3 && ex.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
            }
        }
    }

    private static async Task<EdgeProcess> StartOnceAsync(IReadOnlyDictionary<string, string?> settings, int node, Uri baseAddress)
    {
        var environment = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var (key, value) in settings)
        {
            if (value is not null)
            {
                environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
            }
        }

        environment["Edge__NodeId"] = node.ToString(CultureInfo.InvariantCulture);
        environment["Urls"] = baseAddress.ToString().TrimEnd('/');
        environment["ASPNETCORE_URLS"] = null;
        // The test environment allows dev tokens (Auth:DevTokens), refused in Production, the default.
        environment["ASPNETCORE_ENVIRONMENT"] = "Testing";
        environment["DOTNET_ENVIRONMENT"] = null;

        var process = ServiceProcess.Start("Edge", environment);
        var edge = new EdgeProcess(process, baseAddress);
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
    public Task KillAsync() => _process.KillAsync();

    /// <summary>SIGTERM: the node drains (docs/operations.md, "Graceful drain"); returns its exit code.</summary>
    public Task<int> TerminateAsync(TimeSpan timeout) => _process.TerminateAsync(timeout);

    /// <summary>A port nothing listens on now: the kernel picks it for a listener on port 0, which is then closed.</summary>
    internal static int FreePort()
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

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
