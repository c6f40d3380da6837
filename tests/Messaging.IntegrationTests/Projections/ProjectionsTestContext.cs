using Confluent.Kafka;
using Messaging.Contracts;
using Messaging.Contracts.Commands;
using Messaging.Contracts.Devices;
using Messaging.Contracts.Events;
using Messaging.Contracts.Serialization;
using Messaging.Contracts.Topics;
using Messaging.Hosting;
using Messaging.Hosting.Kafka;
using Messaging.Hosting.Postgres;
using Messaging.IntegrationTests.Harness;
using Messaging.Projections;
using Messaging.Projections.Cli;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Messaging.IntegrationTests.Projections;

/// <summary>
/// One isolated namespace (topic prefix + schema) with its topics created, a producer to write
/// events as the Router and Edge would, and SQL helpers to look at the read models.
/// </summary>
public sealed class ProjectionsTestContext : IAsyncDisposable
{
    private readonly List<ServiceHost> _hosts = [];
    private NpgsqlDataSource? _db;
    private IProducer<string, byte[]>? _producer;

    public TestNamespace Namespace { get; } = new();

    public Dictionary<string, string?> Settings { get; private set; } = [];

    public TopicNames Topics { get; private set; } = new();

    /// <summary>Partitions of this namespace's <c>chat.events</c>.</summary>
    public int EventPartitions { get; private set; }

    public NpgsqlDataSource Db => _db!;

    public static async Task<ProjectionsTestContext> CreateAsync(Action<Dictionary<string, string?>>? configure = null)
    {
        var context = new ProjectionsTestContext();
        context.Settings = TestStack.Settings(context.Namespace);
        context.Settings["Projections:MaxBatchWaitMs"] = "20";
        // Several hosts of one test run side by side: every one on its own ephemeral port.
        context.Settings["Urls"] = "http://127.0.0.1:0";
        context.Settings["Projections:RetryBackoffMs"] = "100";
        context.Settings["Logging:LogLevel:Default"] = "Warning";
        configure?.Invoke(context.Settings);
        context.Topics = new TopicNames(context.Namespace.TopicPrefix);
        var clients = new KafkaClientFactory(Options.Create(Bind<KafkaOptions>(context.Settings, KafkaOptions.Section)));
        await new TopicProvisioner(clients).EnsureAsync(TopicProvisioner.AllTopics(context.Topics, 8, 4), CancellationToken.None);
        context._producer = clients.CreateProducer("projections-tests");
        using (var admin = new Confluent.Kafka.AdminClientBuilder(clients.AdminConfig("projections-tests")).Build())
        {
            // Auto-created test topics get the broker's num.partitions: read it, never assume it.
            context.EventPartitions = admin.GetMetadata(context.Topics.ChatEvents, TimeSpan.FromSeconds(10)).Topics[0].Partitions.Count;
        }

        var csb = new NpgsqlConnectionStringBuilder(TestStack.PostgresConnectionString) { SearchPath = context.Namespace.Schema };
        context._db = NpgsqlDataSource.Create(csb.ConnectionString);
        return context;
    }

    public static void Compose(Microsoft.AspNetCore.Builder.WebApplicationBuilder builder)
    {
        builder.AddServiceDefaults();
        builder.AddMessagingPostgres();
        builder.AddProjections();
    }

    public async Task<ServiceHost> StartAsync(Action<Microsoft.AspNetCore.Builder.WebApplicationBuilder>? extra = null, Action<Dictionary<string, string?>>? configure = null)
    {
        var settings = new Dictionary<string, string?>(Settings, StringComparer.OrdinalIgnoreCase);
        configure?.Invoke(settings);
        var host = await ServiceHost.StartAsync(settings, b =>
        {
            Compose(b);
            extra?.Invoke(b);
        }, app => app.MapProjections());
        _hosts.Add(host);
        return host;
    }

    public async Task StopAsync(ServiceHost host)
    {
        _hosts.Remove(host);
        await host.DisposeAsync();
    }

    /// <summary>Creates the schema without a running service (tests that drive parts directly).</summary>
    public async Task MigrateAsync()
    {
        var (code, output) = await CliAsync("migrate");
        code.Should().Be(0, output);
    }

    /// <summary>Runs the operator CLI in-process against this namespace; returns the exit code and what it printed.</summary>
    public Task<(int Code, string Output)> CliAsync(params string[] args) => CliAsync(Settings, args);

    /// <summary>Runs the operator CLI in-process with <paramref name="settings"/>; returns the exit code and what it printed.</summary>
    public static async Task<(int Code, string Output)> CliAsync(IDictionary<string, string?> settings, params string[] args)
    {
        var writer = new StringWriter();
        var console = Spectre.Console.AnsiConsole.Create(new Spectre.Console.AnsiConsoleSettings
        {
            Out = new Spectre.Console.AnsiConsoleOutput(writer),
            Interactive = Spectre.Console.InteractionSupport.No,
            Ansi = Spectre.Console.AnsiSupport.No,
        });
        var code = await ProjectionsCli.RunAsync(args, settings, console);
        return (code, writer.ToString());
    }

    public Task<DeliveryResult<string, byte[]>> ProduceAsync(ChatEvent e) =>
        _producer!.ProduceAsync(Topics.ChatEvents, new Message<string, byte[]> { Key = e.ChatId, Value = Codecs.Events.Encode(e) });

    /// <summary>Produces many events without awaiting each one (measurements): bounded in flight, then every delivery checked.</summary>
    public async Task ProduceManyAsync(IEnumerable<ChatEvent> events)
    {
        const int inFlight = 50_000;
        var pending = new List<Task<DeliveryResult<string, byte[]>>>(inFlight);
        foreach (var e in events)
        {
            pending.Add(ProduceAsync(e));
            if (pending.Count == inFlight)
            {
                await Task.WhenAll(pending);
                pending.Clear();
            }
        }

        await Task.WhenAll(pending);
    }

    public Task<DeliveryResult<string, byte[]>> ProduceRawAsync(string topic, string key, byte[] value) =>
        _producer!.ProduceAsync(topic, new Message<string, byte[]> { Key = key, Value = value });

    /// <summary>An ack as Edge writes it: keyed by the device address <c>userId/deviceId</c>.</summary>
    public Task<DeliveryResult<string, byte[]>> AckAsync(string address, string chat, long seq)
    {
        DeviceRef.TryParse(address, out var device).Should().BeTrue($"{address} is a device address");
        return _producer!.ProduceAsync(Topics.DeviceAcks, new Message<string, byte[]>
        {
            Key = address,
            Value = Codecs.Devices.Encode(new DeliveryAcked { DeviceId = device.DeviceId, UserId = device.UserId, ChatId = chat, Seq = seq, AckedAt = DateTimeOffset.UtcNow }),
        });
    }

    public Task<DeliveryResult<string, byte[]>> SessionAsync(string device, string user, int? node, DateTimeOffset at) =>
        _producer!.ProduceAsync(Topics.DeviceSessions, new Message<string, byte[]>
        {
            Key = DeviceRef.AddressOf(user, device),
            Value = Codecs.Devices.Encode(new DeviceSessionChanged { DeviceId = device, UserId = user, Node = node, SessionId = "s-" + device + at.ToUnixTimeMilliseconds(), ChangedAt = at }),
        });

    /// <summary>Any <c>device.sessions</c> record under <paramref name="key"/> (a device address, or a node's lease key).</summary>
    public Task<DeliveryResult<string, byte[]>> DeviceRecordAsync(string key, DeviceRecord record) =>
        _producer!.ProduceAsync(Topics.DeviceSessions, new Message<string, byte[]> { Key = key, Value = Codecs.Devices.Encode(record) });

    public async Task<long> CountAsync(string sql)
    {
        await using var command = Db.CreateCommand(sql);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    public async Task ExecAsync(string sql)
    {
        await using var command = Db.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Every row of a table as text, ordered: for row-for-row comparisons.</summary>
    public async Task<List<string>> DumpAsync(string tableOrQuery)
    {
        var from = tableOrQuery.StartsWith("select ", StringComparison.Ordinal) ? $"({tableOrQuery})" : tableOrQuery;
        await using var command = Db.CreateCommand($"select t::text from {from} t order by 1");
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetString(0));
        }

        return rows;
    }

    public Task WaitForAsync(string sql, long expected, string what, int seconds = 60) =>
        Eventually.ReturnsAsync(() => CountAsync(sql), v => v == expected, TimeSpan.FromSeconds(seconds), what);

    public async ValueTask DisposeAsync()
    {
        foreach (var host in _hosts)
        {
            await host.DisposeAsync();
        }

        _producer?.Dispose();
        if (_db is not null)
        {
            await _db.DisposeAsync();
        }

        await Namespace.DisposeAsync();
    }

    private static T Bind<T>(Dictionary<string, string?> settings, string section)
        where T : new()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var value = new T();
        ConfigurationBinder.Bind(configuration.GetSection(section), value);
        return value;
    }
}

/// <summary>Builds chat events as the Router emits them.</summary>
public static class Events
{
    public static readonly DateTimeOffset Epoch = DateTimeOffset.UtcNow.AddMinutes(-10);

    public static DeviceRef Actor(string user) => new(user, "phone");

    public static ChatCreated Created(string chat, IReadOnlyList<string> users) => new()
    {
        ChatId = chat,
        Seq = 1,
        Actor = Actor(users[0]),
        OccurredAt = Epoch,
        Kind = ChatKind.Group,
        Title = "chat " + chat,
        Members = [.. users.Select((u, i) => new ChatMember(u, i == 0 ? MemberRole.Admin : MemberRole.Member))],
    };

    public static MessageSent Message(string chat, long seq, string user) => new()
    {
        ChatId = chat,
        Seq = seq,
        Actor = Actor(user),
        OccurredAt = Epoch.AddMilliseconds(seq),
        MessageId = $"m-{chat}-{seq}",
        ClientMsgId = $"c-{chat}-{seq}",
        Body = $"hello {seq}",
    };
}
