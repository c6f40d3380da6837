using System.Globalization;
using Marten;
using Messaging.Bench.Components;
using Messaging.Bench.Marten;
using Messaging.Contracts.Events;
using Messaging.IntegrationTests.Harness;
using Messaging.IntegrationTests.Projections;
using Npgsql;

namespace Messaging.IntegrationTests.Marten;

/// <summary>
/// The Marten evaluation's chat model (issue 10, docs/decisions/read-side.md) against the real
/// broker and database: the same <c>chat.events</c> copied into Marten streams must give the
/// chats, members and history the Npgsql chat projection gives. Marten writes into its own
/// schema beside the test's namespace and drops it afterwards.
/// </summary>
public sealed class MartenChatModelTests : IAsyncLifetime
{
    private ProjectionsTestContext _ctx = null!;

    private string MartenSchema => _ctx.Namespace.Schema + "_marten";

    public async Task InitializeAsync() => _ctx = await ProjectionsTestContext.CreateAsync(s => s["Projections:Runners"] = "chat");

    public async Task DisposeAsync()
    {
        await _ctx.ExecAsync($"drop schema if exists {MartenSchema} cascade");
        await _ctx.DisposeAsync();
    }

    [Theory]
    [InlineData(ChatModel.Document)]
    [InlineData(ChatModel.Table)]
    public async Task Marten_streams_hold_the_chats_members_and_history_the_Npgsql_projection_holds(ChatModel model)
    {
        var events = Backlog();
        foreach (var e in events)
        {
            await _ctx.ProduceAsync(e);
        }

        // A Router duplicate after a failover: the same (chat, seq) written again later in the log.
        await _ctx.ProduceAsync(events[5]);
        await _ctx.StartAsync();
        await _ctx.WaitForAsync("select count(*) from messages", events.Count, "the Npgsql chat projection applied the backlog", seconds: 180);

        var settings = new MartenChatSettings { ConnectionString = TestStack.PostgresConnectionString, Schema = MartenSchema, Chat = model };
        using var store = MartenChatStore.Create(settings);
        await store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
        await using var database = NpgsqlDataSource.Create(TestStack.PostgresConnectionString);
        var copied = await CopyAsync(store, database);

        copied.Should().Be(new IngestOutcome(events.Count, Duplicates: 1, Undecodable: 0));
        // Both sides sorted here (ordinal): the database orders by its collation.
        (await MartenChatsAsync(store, model)).Should().Equal(Sorted(await _ctx.DumpAsync("select chat_id, kind, title, last_seq from chats")));
        (await MartenMembersAsync(store, model)).Should().Equal(Sorted(await _ctx.DumpAsync("select chat_id, user_id, role, joined_seq, left_seq from chat_members")));
        (await MartenHistoryAsync(store)).Should().Equal(Sorted(await _ctx.DumpAsync("select chat_id, seq, kind, sender_user_id, body from messages")));
    }

    [Fact]
    public async Task A_second_copy_resumes_from_the_positions_saved_with_the_events_and_appends_nothing()
    {
        foreach (var e in Backlog())
        {
            await _ctx.ProduceAsync(e);
        }

        var settings = new MartenChatSettings { ConnectionString = TestStack.PostgresConnectionString, Schema = MartenSchema };
        using var store = MartenChatStore.Create(settings);
        await store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
        await using var database = NpgsqlDataSource.Create(TestStack.PostgresConnectionString);
        (await CopyAsync(store, database)).Appended.Should().Be(Backlog().Count);

        // A new worker (fresh version cache) over the same log: positions say everything is in.
        (await CopyAsync(store, database)).Should().Be(default(IngestOutcome));
        await using var session = store.QuerySession();
        (await session.Events.FetchStreamStateAsync("g1"))!.Version.Should().Be(6, "the stream version is the chat's last seq");
    }

    /// <summary>Two groups with every kind of membership change, and a direct chat.</summary>
    private static List<ChatEvent> Backlog()
    {
        var at = Events.Epoch;
        return
        [
            Events.Created("g1", ["ann", "bob", "cat"]),
            Events.Created("g2", ["dan", "eve"]),
            Events.Message("g1", 2, "bob"),
            new MembersAdded { ChatId = "g1", Seq = 3, Actor = Events.Actor("ann"), OccurredAt = at.AddSeconds(3), UserIds = ["dov"] },
            new MemberRemoved { ChatId = "g1", Seq = 4, Actor = Events.Actor("ann"), OccurredAt = at.AddSeconds(4), UserId = "cat" },
            Events.Message("g2", 2, "eve"),
            new MemberLeft { ChatId = "g1", Seq = 5, Actor = Events.Actor("ann"), OccurredAt = at.AddSeconds(5), UserId = "ann", PromotedAdmin = "bob" },
            new AdminGranted { ChatId = "g2", Seq = 3, Actor = Events.Actor("dan"), OccurredAt = at.AddSeconds(6), UserId = "eve" },
            Events.Message("g1", 6, "dov"),
            Events.Message("g2", 4, "dan"),
        ];
    }

    private async Task<IngestOutcome> CopyAsync(DocumentStore store, NpgsqlDataSource database)
    {
        var target = KafkaTarget.Create(TestStack.KafkaBootstrap, TestStack.KafkaProfile, _ctx.Namespace.TopicPrefix);
        Dictionary<Confluent.Kafka.TopicPartition, long> ends;
        using (var probe = new OffsetProbe(target.CreateProbe("marten-test-probe")))
        {
            ends = probe.Ends(target.Partitions(target.Topics.ChatEvents));
        }

        // A bound, not a pace: Marten generates its storage code with Roslyn at first use, and with
        // 60 s two of these tests ran out once on the shared 2-core machine while it was building.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(180));
        var copy = new MartenChatCopy(new MartenChatIngest(store, database, MartenSchema), target.Clients, pageSize: 4);
        return await copy.CopyAsync(ends, timeout.Token);
    }

    private async Task<List<string>> MartenChatsAsync(DocumentStore store, ChatModel model)
    {
        if (model == ChatModel.Table)
        {
            return Sorted(await _ctx.DumpAsync($"select chat_id, kind, title, last_seq from {MartenSchema}.{ChatTableProjection.Chats}"));
        }

        await using var session = store.QuerySession();
        var chats = await session.Query<ChatState>().ToListAsync();
        return Sorted(chats.Select(c => Row(c.Id, c.Kind, c.Title, c.LastSeq)));
    }

    private async Task<List<string>> MartenMembersAsync(DocumentStore store, ChatModel model)
    {
        if (model == ChatModel.Table)
        {
            return Sorted(await _ctx.DumpAsync($"select chat_id, user_id, role, joined_seq, left_seq from {MartenSchema}.{ChatTableProjection.Members}"));
        }

        await using var session = store.QuerySession();
        var chats = await session.Query<ChatState>().ToListAsync();
        return Sorted(chats.SelectMany(c => c.Members.Select(m => Row(c.Id, m.UserId, m.Role, m.JoinedSeq, m.LeftSeq))));
    }

    /// <summary>History read from the chat streams themselves, with the stream version standing for the seq.</summary>
    private static async Task<List<string>> MartenHistoryAsync(DocumentStore store)
    {
        await using var session = store.QuerySession();
        var rows = new List<string>();
        foreach (var chat in new[] { "g1", "g2" })
        {
            foreach (var e in await session.Events.FetchStreamAsync(chat))
            {
                var data = (ChatEvent)e.Data;
                data.Seq.Should().Be(e.Version, "version = seq");
                rows.Add(Row(chat, e.Version, MartenChatStore.HistoryKind(data), data.Actor.UserId, (data as MessageSent)?.Body));
            }
        }

        return Sorted(rows);
    }

    /// <summary>A row as PostgreSQL prints a record (<c>select t::text</c>): the Npgsql tables' dump format.</summary>
    private static string Row(params object?[] values) =>
        "(" + string.Join(",", values.Select(v => v switch
        {
            null => string.Empty,
            string s when s.Contains(' ', StringComparison.Ordinal) => "\"" + s + "\"",
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => v.ToString(),
        })) + ")";

    private static List<string> Sorted(IEnumerable<string> rows)
    {
        var list = rows.ToList();
        list.Sort(StringComparer.Ordinal);
        return list;
    }
}
