using System.Diagnostics;
using Messaging.Bench.Connections;

namespace Messaging.Bench.Load;

/// <summary>The plan's devices with their tokens and open connections.</summary>
public sealed class DeviceFleet : IAsyncDisposable
{
    private readonly LoadPlan _plan;
    private readonly LoadOptions _options;
    private readonly DevTokenClient _tokens;
    private readonly HttpMessageInvoker _webSocketInvoker;
    private readonly string?[] _tokenByDevice;
    private readonly EdgeConnection?[] _connections;
    private readonly SocketPoller[] _pollers;

    public DeviceFleet(LoadPlan plan, LoadOptions options)
    {
        _plan = plan;
        _options = options;
        _tokens = new DevTokenClient(options.SetupTimeout);

        // One handler for every WebSocket instead of one per ClientWebSocket: 10,000 connections
        // would otherwise carry 10,000 handler instances.
        _webSocketInvoker = new HttpMessageInvoker(new SocketsHttpHandler { ConnectTimeout = options.SetupTimeout });
        _tokenByDevice = new string?[plan.Devices.Count];
        _connections = new EdgeConnection?[plan.Devices.Count];
        _pollers = options.Client == ClientSockets.Polled && SocketPoller.IsSupported
            ? [.. Enumerable.Range(0, options.Pollers).Select(_ => new SocketPoller())]
            : [];
    }

    public EdgeConnection Connection(int device) =>
        _connections[device] ?? throw new InvalidOperationException($"Device {device} is not connected.");

    public bool IsConnected(int device) => _connections[device] is { IsOpen: true };

    /// <summary>Connections the server closed or that failed while they should be open.</summary>
    public int ClosedUnexpectedly()
    {
        var closed = 0;
        foreach (var connection in _connections)
        {
            if (connection is { IsOpen: false })
            {
                closed++;
            }
        }

        return closed;
    }

    public async Task<TimeSpan> FetchTokensAsync(IReadOnlyList<int> devices, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        await Parallel.ForEachAsync(devices, Parallelism(cancellationToken), async (device, ct) =>
        {
            var planned = _plan.Devices[device];
            _tokenByDevice[device] ??= await _tokens.GetTokenAsync(_options.Edges[planned.Edge], planned.UserId, planned.DeviceId, ct);
        });
        return Stopwatch.GetElapsedTime(started);
    }

    /// <summary>Opens the devices' sockets concurrently (tokens first if missing); returns the time the sockets took.</summary>
    public async Task<TimeSpan> ConnectAsync(IReadOnlyList<int> devices, IServerFrameHandler handler, CancellationToken cancellationToken)
    {
        await FetchTokensAsync(devices, cancellationToken);
        var started = Stopwatch.GetTimestamp();
        await Parallel.ForEachAsync(devices, Parallelism(cancellationToken), async (device, ct) =>
        {
            var planned = _plan.Devices[device];
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(_options.SetupTimeout);
            _connections[device] = await EdgeConnection.ConnectAsync(
                _options.Edges[planned.Edge],
                _tokenByDevice[device]!,
                planned.UserId,
                planned.DeviceId,
                handler,
                _webSocketInvoker,
                _options.MaxFrameBytes,
                timeout.Token,
                tag: device,
                poller: _pollers.Length == 0 ? null : _pollers[device % _pollers.Length]);
        });
        return Stopwatch.GetElapsedTime(started);
    }

    public async Task DisconnectAsync(IReadOnlyList<int> devices, CancellationToken cancellationToken)
    {
        await Parallel.ForEachAsync(devices, Parallelism(cancellationToken), async (device, _) =>
        {
            var connection = _connections[device];
            _connections[device] = null;
            if (connection is not null)
            {
                await connection.DisposeAsync();
            }
        });
    }

    public async ValueTask DisposeAsync()
    {
        var all = new int[_connections.Length];
        for (var i = 0; i < all.Length; i++)
        {
            all[i] = i;
        }

        await DisconnectAsync(all, CancellationToken.None);
        _tokens.Dispose();
        _webSocketInvoker.Dispose();
        foreach (var poller in _pollers)
        {
            poller.Dispose();
        }
    }

    private ParallelOptions Parallelism(CancellationToken cancellationToken) =>
        new() { MaxDegreeOfParallelism = _options.ConnectConcurrency, CancellationToken = cancellationToken };
}
