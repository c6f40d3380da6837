using Confluent.Kafka;
using Messaging.Contracts;
using Messaging.Contracts.Commands;
using Messaging.Contracts.Delivery;
using Messaging.Contracts.Devices;
using Messaging.Contracts.Events;
using Messaging.Contracts.Serialization;
using Messaging.Contracts.Topics;
using Messaging.Hosting;
using Messaging.Hosting.Kafka;
using Messaging.IntegrationTests.Harness;
using Messaging.Router;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Messaging.IntegrationTests.Router;

/// <summary>
/// One isolated namespace on the real broker for a Router test class: its topics, a producer for
/// commands and device records, readers of the output topics, and Router hosts in-process or as
/// separate OS processes.
/// </summary>
internal sealed class RouterTestBed : IAsyncDisposable
{
    public const int EdgeNodes = 4;
    public static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(60);
    private static readonly DateTimeOffset Epoch = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static int _ids;
    private readonly List<IAsyncDisposable> _owned = [];

    private RouterTestBed(TestNamespace ns, Dictionary<string, string?> settings, KafkaClientFactory clients)
    {
        Namespace = ns;
        Settings = settings;
        Clients = clients;
        Topics = new TopicNames(ns.TopicPrefix);
        Producer = clients.CreateProducer("router-tests");
    }

    public TestNamespace Namespace { get; }

    public Dictionary<string, string?> Settings { get; }

    public KafkaClientFactory Clients { get; }

    public TopicNames Topics { get; }

    public IProducer<string, byte[]> Producer { get; }

    public static async Task<RouterTestBed> CreateAsync()
    {
        var ns = new TestNamespace();
        var settings = TestStack.Settings(ns);
        settings["Cluster:EdgeNodes"] = EdgeNodes.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var options = configuration.GetSection(KafkaOptions.Section).Get<KafkaOptions>()!;
        var bed = new RouterTestBed(ns, settings, new KafkaClientFactory(Options.Create(options)));
        await new TopicProvisioner(bed.Clients).EnsureAsync(TopicProvisioner.AllTopics(bed.Topics, options.ChatPartitions, EdgeNodes), CancellationToken.None);
        return bed;
    }

    /// <summary>A Router hosted in-process on real Kestrel, composed exactly like its Program.cs; <paramref name="overrides"/> on top of the bed's settings.</summary>
    public async Task<ServiceHost> StartRouterAsync(IReadOnlyDictionary<string, string?>? overrides = null)
    {
        var settings = new Dictionary<string, string?>(Settings);
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        var host = await ServiceHost.StartAsync(settings, b =>
        {
            b.AddServiceDefaults();
            b.AddRouter();
        }, app => app.MapServiceDefaults());
        _owned.Add(host);
        return host;
    }

    /// <summary>A Router as a separate OS process (<c>dotnet Messaging.Router.dll</c>), for kill -9.</summary>
    public ServiceProcess StartRouterProcess(IReadOnlyDictionary<string, string?>? environment = null)
    {
        var variables = new Dictionary<string, string?>
        {
            ["Kafka__BootstrapServers"] = TestStack.KafkaBootstrap,
            ["Kafka__Profile"] = TestStack.KafkaProfile,
            ["Kafka__TopicPrefix"] = Topics.Prefix,
            ["Cluster__EdgeNodes"] = EdgeNodes.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
            ["Logging__LogLevel__Default"] = "Information",
        };
        foreach (var (key, value) in environment ?? new Dictionary<string, string?>())
        {
            variables[key] = value;
        }

        var process = ServiceProcess.Start("Router", variables);
        _owned.Add(process);
        return process;
    }

    public static string NextId(string prefix) => prefix + Interlocked.Increment(ref _ids).ToString(System.Globalization.CultureInfo.InvariantCulture);

    public static DeviceRef Device(string userId, int index = 0) => new(userId, $"{userId}-d{index}");

    public Task SendAsync(ChatCommand command) => SendRawAsync(command.ChatId, Codecs.Commands.Encode(command));

    public async Task SendRawAsync(string key, byte[] value) =>
        await Producer.ProduceAsync(Topics.ChatCommands, new Message<string, byte[]> { Key = key, Value = value });

    /// <summary>Produces many commands without a round trip each, then waits for all acks.</summary>
    public async Task SendManyAsync(IEnumerable<ChatCommand> commands)
    {
        var pending = new List<Task>();
        foreach (var command in commands)
        {
            pending.Add(Producer.ProduceAsync(Topics.ChatCommands, new Message<string, byte[]> { Key = command.ChatId, Value = Codecs.Commands.Encode(command) }));
        }

        await Task.WhenAll(pending);
    }

    public async Task RegisterAsync(string userId, params string[] deviceIds)
    {
        var record = new UserDevicesChanged { UserId = userId, DeviceIds = deviceIds, ChangedAt = Epoch };
        await Producer.ProduceAsync(Topics.UserDevices, new Message<string, byte[]> { Key = userId, Value = Codecs.Devices.Encode(record) });
    }

    public async Task SessionAsync(string userId, string deviceId, int? node, DateTimeOffset? leaseUntil = null)
    {
        var record = new DeviceSessionChanged
        {
            DeviceId = deviceId,
            UserId = userId,
            Node = node,
            SessionId = NextId("s-"),
            ChangedAt = DateTimeOffset.UtcNow,
            LeaseUntil = leaseUntil,
        };
        await Producer.ProduceAsync(Topics.DeviceSessions, new Message<string, byte[]> { Key = DeviceRef.AddressOf(userId, deviceId), Value = Codecs.Devices.Encode(record) });
    }

    public TopicReader<ChatEvent> ReadEvents() => Own(new TopicReader<ChatEvent>(Clients, Topics.ChatEvents, b => Codecs.Events.Decode(b).Value));

    public TopicReader<NodeDelivery> ReadNode(int node) => Own(new TopicReader<NodeDelivery>(Clients, Topics.DeliveryNode(node), b => Codecs.Deliveries.Decode(b).Value));

    public TopicReader<ParkedRecord> ReadDeadLetters() =>
        Own(new TopicReader<ParkedRecord>(Clients, Topics.DeadLetter, b => System.Text.Json.JsonSerializer.Deserialize(b, ContractsJsonContext.Default.ParkedRecord)));

    private T Own<T>(T disposable)
        where T : IAsyncDisposable
    {
        _owned.Add(disposable);
        return disposable;
    }

    public static CreateChat Group(string chatId, string by, params string[] members) => new()
    {
        CommandId = NextId("cmd-"),
        ChatId = chatId,
        Origin = Device(by),
        OriginNode = 0,
        IssuedAt = DateTimeOffset.UtcNow,
        Title = "Group " + chatId,
        Members = members,
    };

    public static SendMessage Send(string chatId, string by, string? clientMsgId = null, string body = "hello", int originNode = 0, string? peer = null) => new()
    {
        CommandId = NextId("cmd-"),
        ChatId = chatId,
        Origin = Device(by),
        OriginNode = originNode,
        RequestId = NextId("req-"),
        IssuedAt = DateTimeOffset.UtcNow,
        ClientMsgId = clientMsgId ?? NextId("c-"),
        MessageId = Guid.CreateVersion7().ToString(),
        Body = body,
        PeerUserId = peer,
    };

    public async ValueTask DisposeAsync()
    {
        for (var i = _owned.Count - 1; i >= 0; i--)
        {
            await _owned[i].DisposeAsync();
        }

        Producer.Dispose();
        await Namespace.DisposeAsync();
    }
}

/// <summary>
/// Reads every partition of a topic from the beginning and keeps what it read; each
/// <see cref="Poll"/> adds what arrived since. For probes inside <see cref="Eventually"/>.
/// </summary>
internal sealed class TopicReader<T> : IAsyncDisposable
    where T : class
{
    private readonly IConsumer<string, byte[]> _consumer;
    private readonly Func<byte[], T?> _decode;
    private readonly List<(string Key, T Value)> _records = [];

    public TopicReader(KafkaClientFactory clients, string topic, Func<byte[], T?> decode)
    {
        _decode = decode;
        var config = clients.ConsumerConfig("reader-" + Guid.NewGuid().ToString("N"), "router-tests");
        config.AutoOffsetReset = AutoOffsetReset.Earliest;
        _consumer = new ConsumerBuilder<string, byte[]>(config).Build();
        using var admin = new AdminClientBuilder(clients.AdminConfig("router-tests")).Build();
        var partitions = admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics.Single().Partitions;
        _consumer.Assign(partitions.Select(p => new TopicPartitionOffset(topic, p.PartitionId, Offset.Beginning)));
    }

    public Task<List<(string Key, T Value)>> Poll()
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(500);
        while (DateTime.UtcNow < deadline)
        {
            var result = _consumer.Consume(TimeSpan.FromMilliseconds(20));
            if (result is null)
            {
                break;
            }

            if (result.Message.Value is not null && _decode(result.Message.Value) is { } value)
            {
                _records.Add((result.Message.Key, value));
            }
        }

        return Task.FromResult(_records.ToList());
    }

    public ValueTask DisposeAsync()
    {
        _consumer.Close();
        _consumer.Dispose();
        return ValueTask.CompletedTask;
    }
}
