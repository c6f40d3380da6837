using Messaging.Contracts.Topics;
using Messaging.Hosting.Kafka;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Messaging.IntegrationTests.Harness;

/// <summary>
/// Where the shared real stack is (started by <c>make test</c> / <c>make infra-up</c>): read from
/// the same environment variables the services use, defaulting to the Makefile's ports.
/// </summary>
public static class TestStack
{
    public static string KafkaBootstrap => Env("Kafka__BootstrapServers", "127.0.0.1:29092");

    public static string KafkaProfile => Env("Kafka__Profile", "Legacy09");

    public static string PostgresConnectionString =>
        Env("ConnectionStrings__Messaging", "Host=127.0.0.1;Port=25432;Username=postgres;Database=messaging");

    public static string S3ServiceUrl => Env("S3__ServiceUrl", "http://127.0.0.1:24569");

    public static string S3Bucket => Env("S3__Bucket", "messaging-media");

    /// <summary>Base settings for any service under test, in an isolated namespace.</summary>
    public static Dictionary<string, string?> Settings(TestNamespace ns)
    {
        var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in KafkaProfileConfiguration.LoadProfile(KafkaProfile))
        {
            if (value is not null)
            {
                settings[key] = value;
            }
        }

        settings["Kafka:BootstrapServers"] = KafkaBootstrap;
        settings["Kafka:Profile"] = KafkaProfile;
        settings["Kafka:TopicPrefix"] = ns.TopicPrefix;
        settings["ConnectionStrings:Messaging"] = PostgresConnectionString;
        settings["Postgres:Schema"] = ns.Schema;
        settings["S3:ServiceUrl"] = S3ServiceUrl;
        settings["S3:Bucket"] = S3Bucket;
        settings["S3:AccessKey"] = Env("S3__AccessKey", "S3RVER");
        settings["S3:SecretKey"] = Env("S3__SecretKey", "S3RVER");
        settings["Cluster:EdgeNodes"] = "4";
        settings["Auth:SigningKey"] = "integration-tests-signing-key-0123456789abcdef";
        settings["Auth:DevTokens"] = "true";
        settings["Logging:LogLevel:Default"] = "Warning";
        Unthrottled(settings);

        // A new consumer group over user.commands takes seconds to join on a loaded test machine;
        // the first registration of a test waits for it.
        settings["Edge:DeviceCommandTimeoutMs"] = "30000";

        // A sync (and a typist the chat read model does not list yet) waits this long for the chat
        // projection; past it the sync is partial, which SyncAsync does not report. The production
        // default (5 s) is shorter than the projection lag seen on loaded CI machines (receipts
        // waited past 10 s there); below the client's 30 s request timeout. CausalSyncTests set their own.
        settings["Edge:SyncCatchUpMs"] = "20000";
        return settings;
    }

    /// <summary>
    /// Rate limits out of the way: every test connects from 127.0.0.1 and many send as fast as
    /// they can, which is what the limits refuse. The abuse tests (EdgeAbuseTests) set the limits
    /// they exercise explicitly on top of this.
    /// </summary>
    public static void Unthrottled(Dictionary<string, string?> settings)
    {
        foreach (var bucket in (string[])["Sends", "ChatCreates", "Membership", "Reads", "Acks", "Typing", "ConnectionsPerUser", "UpgradesPerIp", "TokensPerIp"])
        {
            settings[$"RateLimits:{bucket}:Burst"] = "1000000";
            settings[$"RateLimits:{bucket}:PerSecond"] = "1000000";
        }
    }

    /// <summary>
    /// Creates every topic of the namespace in <paramref name="settings"/> (as the Router and Edge do at
    /// their start) and waits for their leaders: for a test that starts consumers before those services.
    /// </summary>
    public static async Task EnsureTopicsAsync(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var kafka = configuration.GetSection(KafkaOptions.Section).Get<KafkaOptions>()!;
        var edgeNodes = int.Parse(settings["Cluster:EdgeNodes"]!, System.Globalization.CultureInfo.InvariantCulture);
        await new TopicProvisioner(new KafkaClientFactory(Options.Create(kafka)))
            .EnsureAsync(TopicProvisioner.AllTopics(new TopicNames(kafka.TopicPrefix), kafka.ChatPartitions, edgeNodes), CancellationToken.None);
    }

    private static string Env(string name, string fallback) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : fallback;
}

/// <summary>
/// An isolated namespace for one test class: a topic prefix and a PostgreSQL schema, so test
/// classes run in parallel against one broker and one database. Disposing drops the schema.
/// </summary>
public sealed class TestNamespace : IAsyncDisposable
{
    public TestNamespace()
    {
        var id = Guid.NewGuid().ToString("N")[..10];
        TopicPrefix = $"t{id}.";
        Schema = $"t_{id}";
    }

    public string TopicPrefix { get; }

    public string Schema { get; }

    public async ValueTask DisposeAsync()
    {
        await using var connection = new NpgsqlConnection(TestStack.PostgresConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"drop schema if exists {Schema} cascade", connection);
        await command.ExecuteNonQueryAsync();
    }
}
