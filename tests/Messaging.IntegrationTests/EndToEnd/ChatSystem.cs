using Messaging.Client;
using Messaging.Edge;
using Messaging.Hosting;
using Messaging.Hosting.Postgres;
using Messaging.IntegrationTests.Harness;
using Messaging.Projections;
using Messaging.Router;
using Messaging.Router.Devices;
using Npgsql;

namespace Messaging.IntegrationTests.EndToEnd;

/// <summary>
/// The whole system in one isolated namespace: Projections, Router and N Edge nodes, each hosted
/// on real Kestrel sockets against the real Kafka, PostgreSQL and S3, composed with the same
/// extension methods as their Program.cs. Clients talk to it over real WebSockets.
/// </summary>
public sealed class ChatSystem : IAsyncDisposable
{
    private readonly List<ChatClient> _clients = [];

    private ChatSystem(TestNamespace ns, Dictionary<string, string?> settings)
    {
        Namespace = ns;
        Settings = settings;
        var csb = new NpgsqlConnectionStringBuilder(TestStack.PostgresConnectionString) { SearchPath = ns.Schema };
        Database = NpgsqlDataSource.Create(csb.ConnectionString);
    }

    public TestNamespace Namespace { get; }

    public Dictionary<string, string?> Settings { get; }

    public NpgsqlDataSource Database { get; }

    public ServiceHost Projections { get; private set; } = null!;

    public ServiceHost Router { get; private set; } = null!;

    public List<ServiceHost> Edges { get; } = [];

    /// <summary>
    /// Starts the system; <paramref name="inProcessRouter"/> false leaves the Router to the test (e.g. as OS processes);
    /// <paramref name="configure"/> changes settings of every service before any starts.
    /// </summary>
    public static async Task<ChatSystem> StartAsync(int edgeNodes = 2, bool inProcessRouter = true, Action<Dictionary<string, string?>>? configure = null)
    {
        var ns = new TestNamespace();
        var settings = TestStack.Settings(ns);
        settings["Urls"] = "http://127.0.0.1:0";
        configure?.Invoke(settings);
        var system = new ChatSystem(ns, settings);
        // The topics before any service: Projections subscribed before the Router and Edge created
        // them, so each runner began with "Subscribed topic not available" (54 times in one full
        // run) and projected nothing until a later metadata refresh of its consumer found them.
        await TestStack.EnsureTopicsAsync(settings);
        // Projections first: its migrations create the tables Edge reads for sync and history.
        system.Projections = await StartProjectionsAsync(settings);
        if (inProcessRouter)
        {
            system.Router = await StartRouterAsync(settings);
        }
        for (var node = 0; node < edgeNodes; node++)
        {
            system.Edges.Add(await StartEdgeAsync(settings, node));
        }

        return system;
    }

    /// <summary>Stops the Projections worker (the read models stop moving) until <see cref="RestartProjectionsAsync"/>.</summary>
    public async Task StopProjectionsAsync()
    {
        await Projections.DisposeAsync();
        Projections = null!;
    }

    public async Task RestartProjectionsAsync() => Projections = await StartProjectionsAsync(Settings);

    public static Task<ServiceHost> StartProjectionsAsync(IDictionary<string, string?> settings) =>
        ServiceHost.StartAsync(
            settings,
            b =>
            {
                b.AddServiceDefaults();
                b.AddMessagingPostgres();
                b.AddProjections();
            },
            app =>
            {
                app.MapServiceDefaults();
                app.MapProjections();
            });

    public static Task<ServiceHost> StartRouterAsync(IDictionary<string, string?> settings) =>
        ServiceHost.StartAsync(
            settings,
            b =>
            {
                b.AddServiceDefaults();
                b.AddRouter();
                b.AddRouterDevices();
            },
            app => app.MapServiceDefaults());

    public static Task<ServiceHost> StartEdgeAsync(IDictionary<string, string?> settings, int node)
    {
        var nodeSettings = new Dictionary<string, string?>(settings, StringComparer.OrdinalIgnoreCase)
        {
            ["Edge:NodeId"] = node.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        return ServiceHost.StartAsync(
            nodeSettings,
            b =>
            {
                b.AddServiceDefaults();
                b.AddMessagingPostgres();
                b.AddPostgresHealthCheck();
                b.AddEdge();
            },
            app =>
            {
                app.MapServiceDefaults();
                app.MapEdge();
            });
    }

    /// <summary>Connects a device of a user to Edge node <paramref name="node"/> with a dev token.</summary>
    public Task<ChatClient> ConnectAsync(int node, string userId, string deviceId, ChatClientOptions? options = null) =>
        ConnectAsync(Edges[node].BaseAddress, userId, deviceId, options);

    /// <summary>Connects a device to the Edge node at <paramref name="edge"/> (e.g. one running as its own process).</summary>
    public async Task<ChatClient> ConnectAsync(Uri edge, string userId, string deviceId, ChatClientOptions? options = null)
    {
        var token = await ChatClient.GetDevTokenAsync(edge, userId, deviceId);
        var client = await ChatClient.ConnectAsync(new UriBuilder(edge) { Scheme = "ws", Path = "/ws" }.Uri, token, options);
        _clients.Add(client);
        return client;
    }

    public async Task<long> CountAsync(string sql, params object[] args)
    {
        await using var command = Database.CreateCommand(sql);
        foreach (var arg in args)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = arg });
        }

        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients)
        {
            await client.DisposeAsync();
        }

        foreach (var edge in Edges)
        {
            await edge.DisposeAsync();
        }

        if (Router is not null)
        {
            await Router.DisposeAsync();
        }

        if (Projections is not null)
        {
            await Projections.DisposeAsync();
        }

        await Database.DisposeAsync();
        await Namespace.DisposeAsync();
    }
}
