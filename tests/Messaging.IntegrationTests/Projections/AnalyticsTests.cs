using Messaging.Contracts;
using Messaging.Contracts.Commands;
using Messaging.Contracts.Devices;
using Messaging.Contracts.Events;
using Messaging.Contracts.Serialization;
using Messaging.Projections.Analytics;

namespace Messaging.IntegrationTests.Projections;

/// <summary>
/// <c>make analytics</c>'s queries (issue 13) over an archive the archiver wrote from generated
/// events whose answers are known: messages per hour per chat kind, active users per day, the
/// median group size, the read lag percentiles and the delivery lag percentiles from the
/// archived <c>device.acks</c>, with a duplicated and an undecodable record in each log that the
/// queries must not count.
/// </summary>
public sealed class AnalyticsTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Day1 = new(2026, 11, 20, 0, 0, 0, TimeSpan.Zero);

    private ProjectionsTestContext _ctx = null!;
    private string _directory = null!;

    public async Task InitializeAsync()
    {
        _ctx = await ArchiveTests.ArchivingContextAsync("presence");
        _directory = Path.Combine(Path.GetTempPath(), "analytics-" + _ctx.Namespace.Schema);
    }

    public async Task DisposeAsync()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }

        await _ctx.DisposeAsync();
    }

    [Fact]
    public async Task The_example_queries_count_generated_events_once_each()
    {
        var events = Generated();
        foreach (var e in events)
        {
            await _ctx.ProduceAsync(e);
        }

        await _ctx.ProduceAsync(events[4]);
        await _ctx.ProduceRawAsync(_ctx.Topics.ChatEvents, "g1", "{\"type\":\"MessageSent\",\"v\":"u8.ToArray());
        var total = events.Count + 2;
        var acks = Acks();
        foreach (var ack in acks)
        {
            await _ctx.ProduceRawAsync(_ctx.Topics.DeviceAcks, $"{ack.UserId}/{ack.DeviceId}", Codecs.Devices.Encode(ack));
        }

        await _ctx.ProduceRawAsync(_ctx.Topics.DeviceAcks, "b/phone", Codecs.Devices.Encode(acks[1]));
        await _ctx.ProduceRawAsync(_ctx.Topics.DeviceAcks, "b/phone", "{\"type\":\"DeliveryAcked\""u8.ToArray());
        var totalAcks = acks.Count + 2;
        await _ctx.StartAsync();
        using (var store = ArchiveTests.Store(_ctx.Settings))
        {
            await ArchiveTests.WaitForArchiveAsync(store, total);
            await ArchiveTests.WaitForArchiveAsync(store.Acks, totalAcks);
        }

        var (code, output) = await _ctx.CliAsync("analytics", "--dir", _directory);

        code.Should().Be(0, output);
        output.Should().Contain("Messages per hour per chat kind").And.Contain("Median group size");
        var eventsDirectory = Path.Combine(_directory, _ctx.Settings["Archive:Prefix"]!);
        var acksDirectory = Path.Combine(_directory, _ctx.Settings["Archive:AcksPrefix"]!);
        var results = (await ArchiveQueries.RunAsync(eventsDirectory, acksDirectory)).ToDictionary(r => r.Name);
        Rows(results["messages_per_hour"]).Should().Equal(
            "2026-11-20 10:00|Direct|4",
            "2026-11-20 10:00|Group|3",
            "2026-11-20 11:00|Group|3",
            "2026-11-21 09:00|Direct|1");
        Rows(results["active_users_per_day"]).Should().Equal("2026-11-20|5", "2026-11-21|1");
        Rows(results["group_size"]).Should().Equal("4|3");
        Rows(results["read_lag"]).Should().Equal("4|75000|97000|99700");
        Rows(results["delivery_lag"]).Should().Equal(["6|2500|17000|21500"], "b's phone: 1, 22, 12 and 2 s for seqs 2-5 and 0.5 s for 6; b's laptop 3 s for 6 only (its first ack covers nothing before); a's own acks are no deliveries");

        const string copies = "select count(*) as copies from archived where type = 'MessageSent' and chat_id = 'g1' and seq = 5";
        var (adHoc, table) = await _ctx.CliAsync("analytics", "--dir", _directory, "--no-download", "--sql", copies);
        adHoc.Should().Be(0, table);
        table.Should().Contain("copies");
        Rows((await ArchiveQueries.RunAsync(eventsDirectory, acksDirectory, [("copies", copies, copies)]))[0]).Should().Equal(["2"], "the archive holds both copies of the duplicate; the events view counted one");
    }

    private static IEnumerable<string> Rows(QueryResult result) =>
        result.Rows.Select(r => string.Join('|', r.Select(ArchiveQueries.Format)));

    /// <summary>
    /// Three groups (sizes now 3+2-1 = 4, 2+1 = 3, 6-1 = 5: median 4) and a direct chat on two
    /// days. Day 1: a, b, c, d and f act (e only joins and is removed); day 2: a. Bob's first read
    /// markers come 60, 50, 100 and 90 s after Ana's four direct messages; Ana's own marker is not
    /// a read of her messages.
    /// </summary>
    private static List<ChatEvent> Generated()
    {
        var t = Day1.AddHours(10);
        return
        [
            Created("g1", ChatKind.Group, t, "a", "b", "c"),
            new MembersAdded { ChatId = "g1", Seq = 2, Actor = Actor("a"), OccurredAt = t.AddMinutes(1), UserIds = ["d", "e"] },
            new MemberRemoved { ChatId = "g1", Seq = 3, Actor = Actor("a"), OccurredAt = t.AddMinutes(2), UserId = "e" },
            Message("g1", 4, "a", t.AddMinutes(10)),
            Message("g1", 5, "b", t.AddMinutes(11)),
            Message("g1", 6, "c", t.AddMinutes(12)),
            Message("g1", 7, "d", t.AddMinutes(65)),
            Message("g1", 8, "d", t.AddMinutes(66)),
            Created("g2", ChatKind.Group, t.AddHours(1), "b", "a"),
            new MembersAdded { ChatId = "g2", Seq = 2, Actor = Actor("b"), OccurredAt = t.AddHours(1).AddMinutes(1), UserIds = ["c"] },
            Message("g2", 3, "c", t.AddMinutes(90)),
            Created("g3", ChatKind.Group, t.AddHours(2), "f", "a", "b", "c", "d", "e"),
            new MemberLeft { ChatId = "g3", Seq = 2, Actor = Actor("f"), OccurredAt = t.AddHours(2).AddMinutes(1), UserId = "f", PromotedAdmin = "a" },
            Created("d1", ChatKind.Direct, t, "a", "b"),
            Message("d1", 2, "a", t.AddMinutes(20)),
            Message("d1", 3, "a", t.AddMinutes(20).AddSeconds(10)),
            Message("d1", 4, "a", t.AddMinutes(20).AddSeconds(20)),
            Message("d1", 5, "a", t.AddMinutes(20).AddSeconds(30)),
            Read("d1", 3, "b", t.AddMinutes(21)),
            Read("d1", 5, "b", t.AddMinutes(22)),
            Read("d1", 5, "a", t.AddMinutes(22).AddSeconds(30)),
            Read("d1", 3, "b", t.AddMinutes(23)),
            Message("d1", 6, "a", Day1.AddDays(1).AddHours(9)),
        ];
    }

    /// <summary>
    /// Acks of the direct chat d1 (Ana's messages 2-5 at 10:20:00, :10, :20, :30, message 6 the
    /// next day at 09:00): Bob's phone acks 2 a second later, then 5 at 10:20:32 (3, 4 and 5
    /// delivered), 6 half a second after it was sent; Bob's laptop, new on day 2, acks 6 after
    /// 3 s (its first ack would cover 2-5 too, which it never received); Ana acks her own.
    /// </summary>
    private static List<DeliveryAcked> Acks()
    {
        var sent = Day1.AddHours(10).AddMinutes(20);
        var day2 = Day1.AddDays(1).AddHours(9);
        return
        [
            Ack("b", "phone", 2, sent.AddSeconds(1)),
            Ack("b", "phone", 5, sent.AddSeconds(32)),
            Ack("a", "phone", 5, sent.AddSeconds(31)),
            Ack("b", "phone", 6, day2.AddMilliseconds(500)),
            Ack("b", "laptop", 6, day2.AddSeconds(3)),
            Ack("a", "phone", 6, day2.AddSeconds(1)),
        ];
    }

    private static DeliveryAcked Ack(string user, string device, long seq, DateTimeOffset at) => new() { UserId = user, DeviceId = device, ChatId = "d1", Seq = seq, AckedAt = at };

    private static DeviceRef Actor(string user) => new(user, "phone");

    private static ChatCreated Created(string chat, ChatKind kind, DateTimeOffset at, params string[] users) => Events.Created(chat, users) with { Kind = kind, OccurredAt = at, Actor = Actor(users[0]) };

    private static MessageSent Message(string chat, long seq, string user, DateTimeOffset at) => Events.Message(chat, seq, user) with { OccurredAt = at };

    private static MessagesRead Read(string chat, long seq, string user, DateTimeOffset at) => new() { ChatId = chat, Seq = seq, Actor = Actor(user), OccurredAt = at };
}
