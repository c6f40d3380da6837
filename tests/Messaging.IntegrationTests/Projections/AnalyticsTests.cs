using Messaging.Contracts;
using Messaging.Contracts.Commands;
using Messaging.Contracts.Events;
using Messaging.IntegrationTests.Harness;
using Messaging.Projections.Analytics;

namespace Messaging.IntegrationTests.Projections;

/// <summary>
/// <c>make analytics</c>'s queries (issue 13) over an archive the archiver wrote from generated
/// events whose answers are known: messages per hour per chat kind, active users per day, the
/// median group size and the read lag percentiles, with a duplicated and an undecodable record
/// in the log that the queries must not count.
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
        await _ctx.StartAsync();
        using (var store = ArchiveTests.Store(_ctx.Settings))
        {
            await Eventually.ReturnsAsync(() => store.LoadManifestsAsync(CancellationToken.None), m => m.Values.Sum(x => x.Files.Sum(f => f.Records)) >= total, TimeSpan.FromSeconds(90), $"the archive holding all {total} records");
        }

        var (code, output) = await _ctx.CliAsync("analytics", "--dir", _directory);

        code.Should().Be(0, output);
        output.Should().Contain("Messages per hour per chat kind").And.Contain("Median group size");
        var results = (await ArchiveQueries.RunAsync(_directory)).ToDictionary(r => r.Name);
        Rows(results["messages_per_hour"]).Should().Equal(
            "2026-11-20 10:00|Direct|4",
            "2026-11-20 10:00|Group|3",
            "2026-11-20 11:00|Group|3",
            "2026-11-21 09:00|Direct|1");
        Rows(results["active_users_per_day"]).Should().Equal("2026-11-20|5", "2026-11-21|1");
        Rows(results["group_size"]).Should().Equal("4|3");
        Rows(results["read_lag"]).Should().Equal("4|75000|97000|99700");

        const string copies = "select count(*) as copies from archived where type = 'MessageSent' and chat_id = 'g1' and seq = 5";
        var (adHoc, table) = await _ctx.CliAsync("analytics", "--dir", _directory, "--no-download", "--sql", copies);
        adHoc.Should().Be(0, table);
        table.Should().Contain("copies");
        Rows((await ArchiveQueries.RunAsync(_directory, [("copies", copies, copies)]))[0]).Should().Equal(["2"], "the archive holds both copies of the duplicate; the events view counted one");
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

    private static DeviceRef Actor(string user) => new(user, "phone");

    private static ChatCreated Created(string chat, ChatKind kind, DateTimeOffset at, params string[] users) => Events.Created(chat, users) with { Kind = kind, OccurredAt = at, Actor = Actor(users[0]) };

    private static MessageSent Message(string chat, long seq, string user, DateTimeOffset at) => Events.Message(chat, seq, user) with { OccurredAt = at };

    private static MessagesRead Read(string chat, long seq, string user, DateTimeOffset at) => new() { ChatId = chat, Seq = seq, Actor = Actor(user), OccurredAt = at };
}
