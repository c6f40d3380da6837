using System.Text;
using Confluent.Kafka;
using Messaging.Contracts.Devices;
using Messaging.Contracts.Serialization;
using Messaging.Contracts.Topics;
using Messaging.Hosting.Kafka;
using Messaging.IntegrationTests.Harness;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Messaging.IntegrationTests.Hosting;

public sealed class KafkaHostingTests : IAsyncLifetime
{
    private readonly TestNamespace _ns = new();
    private KafkaClientFactory _clients = null!;
    private TopicNames _topics = null!;

    public async Task InitializeAsync()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(TestStack.Settings(_ns)).Build();
        var options = configuration.GetSection(KafkaOptions.Section).Get<KafkaOptions>()!;
        _clients = new KafkaClientFactory(Options.Create(options));
        _topics = new TopicNames(options.TopicPrefix);
        await new TopicProvisioner(_clients).EnsureAsync(TopicProvisioner.AllTopics(_topics, 8, 2), CancellationToken.None);
    }

    public async Task DisposeAsync() => await _ns.DisposeAsync();

    [Fact]
    public async Task Provisioned_topics_accept_records_that_a_consumer_reads_back()
    {
        using var producer = _clients.CreateProducer("test");
        var result = await producer.ProduceAsync(_topics.ChatCommands, new Message<string, byte[]> { Key = "chat-1", Value = Encoding.UTF8.GetBytes("{}") });
        result.Status.Should().Be(PersistenceStatus.Persisted);

        var config = _clients.ConsumerConfig(_ns.TopicPrefix + "reader", "test");
        config.AutoOffsetReset = AutoOffsetReset.Earliest;
        using var consumer = new ConsumerBuilder<string, byte[]>(config).Build();
        consumer.Assign(new TopicPartitionOffset(result.TopicPartition, Offset.Beginning));
        var read = consumer.Consume(TimeSpan.FromSeconds(30));

        read.Should().NotBeNull();
        read!.Message.Key.Should().Be("chat-1");
    }

    [Fact]
    public void Kafka_clients_run_on_the_official_centos8_librdkafka_build_because_the_default_one_needs_libsasl2_so_3()
    {
        var chosen = LibrdkafkaLoader.Choose("", AppContext.BaseDirectory, linuxX64: true, File.Exists);

        chosen.Should().NotBeNull("the official librdkafka.redist package carries centos8-librdkafka.so (a locally built package would not)");
        Library.IsLoaded.Should().BeTrue("building a KafkaClientFactory loads librdkafka");
        File.ReadAllText("/proc/self/maps").Should().Contain(chosen!, "the process mapped the file the loader chose");
    }

    [Fact]
    public async Task Compacted_table_holds_the_latest_value_per_key_and_keeps_tailing()
    {
        using var producer = _clients.CreateProducer("test");
        await ProduceDevices(producer, "ana", "a1");
        await ProduceDevices(producer, "ana", "a1", "a2");
        await ProduceDevices(producer, "bo", "b1");

        await using var table = new CompactedTopicTable<UserDevicesChanged>(
            _clients, _topics.UserDevices, bytes => Codecs.Devices.Decode(bytes).Value as UserDevicesChanged, NullLogger.Instance);
        table.Start();
        await table.WaitCaughtUpAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));

        table.TryGet("ana", out var ana).Should().BeTrue();
        ana.DeviceIds.Should().Equal("a1", "a2");
        table.Count.Should().Be(2);

        await ProduceDevices(producer, "cy", "c1");
        await Eventually.TrueAsync(() => Task.FromResult(table.TryGet("cy", out _)), TimeSpan.FromSeconds(30), "the table to see a new key");
    }

    [Fact]
    public async Task High_watermarks_of_partitions_of_several_topics_asked_at_once_equal_each_partitions_own_and_move_with_every_append()
    {
        using var producer = _clients.CreateProducer("test");
        await ProduceDevices(producer, "ana", "a1");
        await ProduceDevices(producer, "bo", "b1");
        await ProduceDevices(producer, "bo", "b1", "b2");
        await producer.ProduceAsync(_topics.ChatEvents, new Message<string, byte[]> { Key = "chat-1", Value = Encoding.UTF8.GetBytes("{}") });

        using var consumer = new ConsumerBuilder<string, byte[]>(_clients.ConsumerConfig(_ns.TopicPrefix + "watermarks", "test")).Build();
        var timeout = TimeSpan.FromSeconds(30);
        using var admin = new AdminClientBuilder(_clients.AdminConfig("test")).Build();
        var partitions = admin.GetMetadata(timeout).Topics
            .Where(t => t.Topic == _topics.UserDevices || t.Topic == _topics.ChatEvents)
            .SelectMany(t => t.Partitions.Select(p => new TopicPartition(t.Topic, p.PartitionId)))
            .ToList();
        partitions.Select(p => p.Topic).Distinct().Should().HaveCount(2);

        var highs = HighWatermarks.Query(consumer, partitions, timeout);

        highs.Should().Equal(partitions.Select(tp => consumer.QueryWatermarkOffsets(tp, timeout).High.Value));
        highs.Sum().Should().Be(4, "four records were appended");

        // Read-your-writes: an append acknowledged before the query is counted by it.
        var appended = await ProduceDevices(producer, "ana", "a1", "a2");
        var after = HighWatermarks.Query(consumer, partitions, timeout);
        after[partitions.IndexOf(appended.TopicPartition)].Should().Be(appended.Offset.Value + 1);
        after.Sum().Should().Be(5);
    }

    [Fact]
    public async Task A_lingering_batch_takes_a_record_appended_after_its_first_one_arrived()
    {
        using var producer = _clients.CreateProducer("test");
        var partition = new TopicPartition(_topics.ChatCommands, 0);
        using var consumer = ConsumerAtTheEndOf(partition, "linger");
        var batch = new List<ConsumeResult<string, byte[]>>();

        // The second record is appended only once the first is acknowledged, and 2 s later: a batch
        // of what was already fetched when the first arrived holds one record.
        var appends = Task.Run(async () =>
        {
            await producer.ProduceAsync(partition, new Message<string, byte[]> { Key = "chat-1", Value = Encoding.UTF8.GetBytes("1") });
            await Task.Delay(TimeSpan.FromSeconds(2));
            await producer.ProduceAsync(partition, new Message<string, byte[]> { Key = "chat-1", Value = Encoding.UTF8.GetBytes("2") });
        });
        var added = await Task.Run(() => ConsumerBatching.Drain(consumer, batch, 2, TimeSpan.FromSeconds(30), CancellationToken.None, linger: TimeSpan.FromSeconds(20)));
        await appends;

        added.Should().Be(2);
        batch.Select(r => Encoding.UTF8.GetString(r.Message.Value)).Should().Equal("1", "2");
    }

    [Fact]
    public async Task A_lingering_batch_closes_with_what_it_has_when_its_cut_is_requested()
    {
        using var producer = _clients.CreateProducer("test");
        var partition = new TopicPartition(_topics.ChatCommands, 1);
        using var consumer = ConsumerAtTheEndOf(partition, "cut");
        await producer.ProduceAsync(partition, new Message<string, byte[]> { Key = "chat-1", Value = Encoding.UTF8.GetBytes("1") });
        var batch = new List<ConsumeResult<string, byte[]>>();
        var cut = new LingerCut(TimeSpan.FromMilliseconds(20));

        // Without the cut this batch would stay open for 10 minutes, waiting for a second record.
        using var stop = new CancellationTokenSource();
        var drain = Task.Run(() => ConsumerBatching.Drain(consumer, batch, 2, TimeSpan.FromSeconds(30), stop.Token, TimeSpan.FromMinutes(10), cut));
        var giveUp = DateTime.UtcNow.AddSeconds(60);
        while (!drain.IsCompleted && DateTime.UtcNow < giveUp)
        {
            cut.Request();
            await Task.WhenAny(drain, Task.Delay(TimeSpan.FromMilliseconds(100)));
        }

        var closedByTheCut = drain.IsCompleted;
        await stop.CancelAsync();
        var added = await drain;
        closedByTheCut.Should().BeTrue("the cut closes the batch long before its linger ends");
        added.Should().Be(1);
        batch.Select(r => Encoding.UTF8.GetString(r.Message.Value)).Should().Equal("1");
    }

    /// <summary>A consumer of <paramref name="partition"/> from its current end, asked before anything is appended (<c>Offset.End</c> could resolve after the first append).</summary>
    private IConsumer<string, byte[]> ConsumerAtTheEndOf(TopicPartition partition, string group)
    {
        var consumer = new ConsumerBuilder<string, byte[]>(_clients.ConsumerConfig(_ns.TopicPrefix + group, "test")).Build();
        consumer.Assign(new TopicPartitionOffset(partition, consumer.QueryWatermarkOffsets(partition, TimeSpan.FromSeconds(30)).High));
        return consumer;
    }

    private Task<DeliveryResult<string, byte[]>> ProduceDevices(IProducer<string, byte[]> producer, string user, params string[] devices) =>
        producer.ProduceAsync(_topics.UserDevices, new Message<string, byte[]>
        {
            Key = user,
            Value = Codecs.Devices.Encode(new UserDevicesChanged { UserId = user, DeviceIds = devices, ChangedAt = DateTimeOffset.UtcNow }),
        });
}
