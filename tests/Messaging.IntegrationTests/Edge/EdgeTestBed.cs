using System.Net.Http.Headers;
using Confluent.Kafka;
using Messaging.Client;
using Messaging.Contracts.Delivery;
using Messaging.Contracts.Serialization;
using Messaging.Contracts.Topics;
using Messaging.Edge;
using Messaging.Edge.Auth;
using Messaging.Hosting;
using Messaging.Hosting.Kafka;
using Messaging.Hosting.Postgres;
using Messaging.IntegrationTests.Harness;
using Messaging.ReadModels.Schema;
using Messaging.Router.Devices;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Messaging.IntegrationTests.Edge;

/// <summary>
/// One Edge node on real Kestrel, Kafka, PostgreSQL (read-model schema from the Projections
/// migrations) and s3rver, in its own namespace (topic prefix + schema), with the Router's device
/// loop (<c>AddRouterDevices</c>, no chat loop) that decides its device registrations. Tests of a
/// class share it and keep apart by using their own user and device ids (<see cref="NextId"/>).
/// </summary>
public class EdgeHost : IAsyncLifetime
{
    public const int NodeId = 1;

    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    private static int _counter;

    private readonly TestNamespace _ns = new();
    private readonly List<IAsyncDisposable> _owned = [];
    private IProducer<string, byte[]>? _producer;

    public ServiceHost Host { get; private set; } = null!;

    /// <summary>The Router's device loop: without it no new device could register.</summary>
    public ServiceHost Registrar { get; private set; } = null!;

    public TopicNames Topics => Host.Services.GetRequiredService<TopicNames>();

    public NpgsqlDataSource Db => Host.Services.GetRequiredService<NpgsqlDataSource>();

    public Uri Http => Host.BaseAddress;

    public Uri Ws => Host.WebSocketUri();

    public HttpClient HttpClient { get; } = new(new HttpClientHandler { AllowAutoRedirect = false });

    /// <summary>Settings on top of <see cref="TestStack.Settings"/> (a subclass tightens limits for its tests).</summary>
    protected virtual void Configure(Dictionary<string, string?> settings)
    {
    }

    public async Task InitializeAsync()
    {
        var settings = TestStack.Settings(_ns);
        settings["Edge:NodeId"] = NodeId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Edge:SessionLeaseSeconds"] = "30";
        settings["Router:MaxDevicesPerUser"] = "6";
        Configure(settings);
        Host = await ServiceHost.StartAsync(
            settings,
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
        Registrar = await ServiceHost.StartAsync(
            settings,
            b =>
            {
                b.AddServiceDefaults();
                b.AddRouterDevices();
            },
            app => app.MapServiceDefaults());
        var runner = new MigrationRunner(Db, Options.Create(new PostgresOptions { Schema = _ns.Schema }), NullLogger<MigrationRunner>.Instance);
        await runner.MigrateAsync(CancellationToken.None);
        _producer = Host.Services.GetRequiredService<KafkaClientFactory>().CreateProducer("edge-tests");
    }

    public async Task DisposeAsync()
    {
        foreach (var owned in _owned)
        {
            await owned.DisposeAsync();
        }

        _producer?.Dispose();
        HttpClient.Dispose();
        await Host.DisposeAsync();
        await Registrar.DisposeAsync();
        await _ns.DisposeAsync();
    }

    public static string NextId(string prefix) =>
        prefix + Interlocked.Increment(ref _counter).ToString(System.Globalization.CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N")[..6];

    public string Token(string userId, string deviceId) => Host.Services.GetRequiredService<TokenService>().Issue(userId, deviceId);

    /// <summary>Connects a device (a token from the node's own signing key); disposed with the fixture.</summary>
    public async Task<ChatClient> ConnectAsync(string userId, string deviceId, ChatClientOptions? options = null)
    {
        var client = await ChatClient.ConnectAsync(Ws, Token(userId, deviceId), options);
        lock (_owned)
        {
            _owned.Add(client);
        }

        // The socket is served once the device is registered and its session announced: a ping
        // round trip proves it.
        await client.PingAsync();
        return client;
    }

    public HttpRequestMessage Get(string path, string? token)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, new Uri(Http, path));
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return request;
    }

    /// <summary>Puts a record on a node's delivery topic as the Router would.</summary>
    public async Task DeliverAsync(NodeDelivery delivery, string key, int node = NodeId)
    {
        await _producer!.ProduceAsync(Topics.DeliveryNode(node), new Message<string, byte[]> { Key = key, Value = Codecs.Deliveries.Encode(delivery) });
    }

    /// <summary>Reads a topic from the beginning (each call), for checking what Edge appended.</summary>
    public TopicProbe Probe(string topic) => new(Host.Services.GetRequiredService<KafkaClientFactory>(), topic);

    public async Task ExecuteAsync(string sql, params object[] parameters)
    {
        await using var command = Db.CreateCommand(sql);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }

        await command.ExecuteNonQueryAsync();
    }
}

/// <summary>Reads every record of a topic so far; for asserting on what Edge produced.</summary>
public sealed class TopicProbe(KafkaClientFactory clients, string topic)
{
    public Task<List<ConsumeResult<string, byte[]>>> ReadAllAsync() => Task.Run(() =>
    {
        var config = clients.ConsumerConfig("probe-" + Guid.NewGuid().ToString("N"), "edge-tests-probe");
        config.EnablePartitionEof = true;
        using var consumer = new ConsumerBuilder<string, byte[]>(config).Build();
        using var admin = new AdminClientBuilder(clients.AdminConfig("edge-tests-probe")).Build();
        var partitions = admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics.Single().Partitions
            .Select(p => new TopicPartition(topic, p.PartitionId)).ToList();
        var ends = partitions.ToDictionary(p => p.Partition.Value, p => consumer.QueryWatermarkOffsets(p, TimeSpan.FromSeconds(10)).High.Value);
        var records = new List<ConsumeResult<string, byte[]>>();
        var pending = ends.Where(e => e.Value > 0).Select(e => e.Key).ToHashSet();
        if (pending.Count == 0)
        {
            return records;
        }

        consumer.Assign(partitions.Select(p => new TopicPartitionOffset(p, Offset.Beginning)));
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (pending.Count > 0 && DateTime.UtcNow < deadline)
        {
            var result = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (result is null)
            {
                continue;
            }

            if (!result.IsPartitionEOF)
            {
                records.Add(result);
            }

            if (result.IsPartitionEOF || result.Offset.Value + 1 >= ends[result.Partition.Value])
            {
                pending.Remove(result.Partition.Value);
            }
        }

        return records;
    });

    /// <summary>The decoded values of records with <paramref name="key"/>.</summary>
    public async Task<List<T>> ReadAsync<T>(string key, Func<byte[], T?> decode)
        where T : class =>
        (await ReadAllAsync()).Where(r => r.Message.Key == key && r.Message.Value is not null)
            .Select(r => decode(r.Message.Value)).OfType<T>().ToList();
}
