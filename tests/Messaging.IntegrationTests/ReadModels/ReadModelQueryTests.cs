using Messaging.Contracts;
using Messaging.Contracts.Commands;
using Messaging.Contracts.Events;
using Messaging.Contracts.Protocol;
using Messaging.Hosting.Postgres;
using Messaging.IntegrationTests.Harness;
using Messaging.IntegrationTests.Projections;
using Messaging.Projections.Chats;
using Messaging.Projections.Runtime;
using Messaging.ReadModels.Chats;
using Messaging.ReadModels.Checkpoints;
using Messaging.ReadModels.Schema;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Messaging.IntegrationTests.ReadModels;

/// <summary>
/// Every typed query of the read-side library against a freshly migrated schema, on rows the
/// projections' own writers put there: a column or table renamed in a migration but not in a
/// query (or the other way round) fails here, not in production.
/// </summary>
public sealed class ReadModelQueryTests : IAsyncLifetime
{
    private const string Chat = "rm-chat";
    private const string Topic = "chat.events";

    private readonly TestNamespace _ns = new();
    private NpgsqlDataSource _db = null!;

    public async Task InitializeAsync()
    {
        var csb = new NpgsqlConnectionStringBuilder(TestStack.PostgresConnectionString) { SearchPath = _ns.Schema };
        _db = NpgsqlDataSource.Create(csb.ConnectionString);
        var applied = await new MigrationRunner(_db, Options.Create(new PostgresOptions { Schema = _ns.Schema }), NullLogger<MigrationRunner>.Instance)
            .MigrateAsync(CancellationToken.None);
        applied.Should().Be(MigrationCatalog.Embedded().Count);

        // alice creates the chat with bob and carol (1), alice writes 2-3 (3 with an attachment),
        // carol leaves (4), alice writes 5-6 (6 with another attachment).
        ChatEvent[] events =
        [
            Events.Created(Chat, ["alice", "bob", "carol"]),
            Events.Message(Chat, 2, "alice"),
            Events.Message(Chat, 3, "alice") with { Attachments = [new Attachment("alice/before-leave", "image/png", 10, "a.png")] },
            new MemberLeft { ChatId = Chat, Seq = 4, Actor = Events.Actor("carol"), OccurredAt = Events.Epoch.AddMilliseconds(4), UserId = "carol" },
            Events.Message(Chat, 5, "alice"),
            Events.Message(Chat, 6, "alice") with { Attachments = [new Attachment("alice/after-leave", "image/png", 10, null)] },
        ];
        await using var connection = await _db.OpenConnectionAsync();
        await using var batch = new NpgsqlBatch(connection);
        new ChatProjection().AppendApply([.. events.Select((e, i) => new ApplyRecord(new SourceRecord(Topic, 0, i, Chat, null), e))], batch, TableSet.Live);
        batch.BatchCommands.Add(CheckpointStore.Advance("chat", new PartitionKey(Topic, 0), null, 6));
        batch.BatchCommands.Add(CheckpointStore.Advance("chat", new PartitionKey(Topic, 1), null, 9));
        batch.BatchCommands.Add(CheckpointStore.Advance("inbox", new PartitionKey(Topic, 0), null, 4));
        await batch.ExecuteNonQueryAsync();
    }

    public async Task DisposeAsync()
    {
        await _db.DisposeAsync();
        await _ns.DisposeAsync();
    }

    [Fact]
    public async Task The_history_page_reads_the_messages_of_a_members_range_as_the_frames_a_live_push_carries()
    {
        var history = new HistoryQueries(_db);

        var newest = await history.PageAsync(new DeviceRef("bob", "phone"), Chat, null, 2, "r1", CancellationToken.None);
        newest!.Messages.Select(m => m.Seq).Should().Equal(5, 6);
        newest.HasMore.Should().BeTrue();
        newest.Id.Should().Be("r1");
        newest.Messages[1].Should().Match<MessageFrame>(m =>
            m.ChatId == Chat && m.MessageId == "m-rm-chat-6" && m.ClientMsgId == "c-rm-chat-6" && m.Body == "hello 6"
            && m.Sender.UserId == "alice" && m.Sender.DeviceId == "phone");
        // PostgreSQL keeps microseconds, .NET ticks are 100 ns.
        newest.Messages[1].SentAt.Should().BeCloseTo(Events.Epoch.AddMilliseconds(6), TimeSpan.FromMicroseconds(1));
        newest.Messages[1].Attachments.Should().ContainSingle().Which.Should().Be(new Attachment("alice/after-leave", "image/png", 10, null));

        var older = await history.PageAsync(new DeviceRef("bob", "phone"), Chat, 5, 10, null, CancellationToken.None);
        older!.Messages.Select(m => m.Seq).Should().Equal(2, 3);
        older.HasMore.Should().BeFalse();
    }

    [Fact]
    public async Task The_history_page_ends_a_former_members_range_at_their_leave_and_refuses_a_non_member()
    {
        var history = new HistoryQueries(_db);

        (await history.PageAsync(new DeviceRef("carol", "phone"), Chat, null, 10, null, CancellationToken.None))!.Messages.Select(m => m.Seq).Should().Equal(2, 3);
        (await history.PageAsync(new DeviceRef("mallory", "phone"), Chat, null, 10, null, CancellationToken.None)).Should().BeNull();
    }

    [Fact]
    public async Task An_attachment_is_visible_to_members_whose_range_holds_its_message_only()
    {
        var history = new HistoryQueries(_db);

        (await history.AttachmentVisibleAsync("bob", "alice/after-leave", CancellationToken.None)).Should().BeTrue();
        (await history.AttachmentVisibleAsync("carol", "alice/before-leave", CancellationToken.None)).Should().BeTrue();
        (await history.AttachmentVisibleAsync("carol", "alice/after-leave", CancellationToken.None)).Should().BeFalse();
        (await history.AttachmentVisibleAsync("mallory", "alice/before-leave", CancellationToken.None)).Should().BeFalse();
    }

    [Fact]
    public async Task Current_co_members_are_the_users_sharing_a_chat_neither_has_left()
    {
        var members = new MemberQueries(_db);

        (await members.CurrentCoMembersAsync("alice", ["bob", "carol", "mallory"], CancellationToken.None)).Should().BeEquivalentTo(["bob"]);
        (await members.CurrentCoMembersAsync("carol", ["alice"], CancellationToken.None)).Should().BeEmpty();
    }

    [Fact]
    public async Task Receipt_targets_are_the_other_senders_in_each_range_with_the_chats_projected_last_seq()
    {
        var targets = await new ConversationQueries(_db).TargetsAsync(
            [new(Chat, "bob", 0, 6), new(Chat, "alice", 0, 6), new(Chat, "bob", 3, 4), new("rm-unknown", "bob", 0, 3)], CancellationToken.None);

        targets[0].Should().BeEquivalentTo(new ReceiptTargets(6, ["alice"]));
        targets[1].Should().BeEquivalentTo(new ReceiptTargets(6, []), "nobody but alice wrote");
        targets[2].Senders.Should().BeEmpty("seq 4 is carol leaving, not a message");
        targets[3].Should().BeEquivalentTo(new ReceiptTargets(0, []));
    }

    [Fact]
    public async Task Member_positions_hold_the_highest_cursor_of_any_device_and_the_read_marker()
    {
        await using (var connection = await _db.OpenConnectionAsync())
        {
            await using var batch = new NpgsqlBatch(connection);
            batch.BatchCommands.Add(new NpgsqlBatchCommand($"insert into device_cursors (user_id, device_id, chat_id, acked_seq) values ('bob', 'phone', '{Chat}', 3), ('bob', 'tablet', '{Chat}', 5)"));
            MessagesRead read = new() { ChatId = Chat, Seq = 4, Actor = Events.Actor("bob"), OccurredAt = Events.Epoch };
            new ChatProjection().AppendApply([new ApplyRecord(new SourceRecord(Topic, 0, 7, Chat, null), read)], batch, TableSet.Live);
            await batch.ExecuteNonQueryAsync();
        }

        var queries = new ConversationQueries(_db);
        (await queries.PositionsAsync(Chat, CancellationToken.None)).Should().BeEquivalentTo([
            new MemberPosition("alice", 1, null, 0, 0, 0),
            new MemberPosition("bob", 1, null, 5, 4, 4),
            new MemberPosition("carol", 1, 4, 0, 0, 0),
        ]);
        (await queries.CurrentMembersAsync(Chat, CancellationToken.None)).Should().BeEquivalentTo(["alice", "bob"]);
    }

    [Fact]
    public async Task Ack_scope_is_the_chats_last_seq_and_where_the_user_left()
    {
        var members = new MemberQueries(_db);

        (await members.AckScopeAsync("alice", Chat, CancellationToken.None)).Should().Be((6L, (long?)null));
        (await members.AckScopeAsync("carol", Chat, CancellationToken.None)).Should().Be((6L, (long?)4));
        (await members.AckScopeAsync("mallory", Chat, CancellationToken.None)).Should().BeNull();
    }

    [Fact]
    public async Task Message_rows_read_membership_changes_as_chat_updated_frames()
    {
        await using var command = _db.CreateCommand($"select {MessageRows.Columns} from messages m where m.chat_id = $1 and m.kind <> '{ChangeKinds.Message}' order by m.seq");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Chat });
        var frames = new List<ServerFrame>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                frames.Add(MessageRows.Read(reader));
            }
        }

        frames.Should().SatisfyRespectively(
            created => created.Should().Match<ChatUpdatedFrame>(f => f.Seq == 1 && f.Change == ChangeKinds.Created && f.Title == "chat rm-chat" && f.UserIds!.Count == 3 && f.UserIds[2] == "carol"),
            left => left.Should().Match<ChatUpdatedFrame>(f => f.Seq == 4 && f.Change == ChangeKinds.MemberLeft && f.Actor.UserId == "carol" && f.UserIds!.Count == 1 && f.UserIds[0] == "carol"));
    }

    [Fact]
    public async Task Projection_positions_load_per_partition_and_applied_is_the_lowest_of_the_projections_asked()
    {
        var checkpoints = new CheckpointStore(_db);

        (await checkpoints.LoadAsync("chat", CancellationToken.None)).Should().BeEquivalentTo(
            new Dictionary<PartitionKey, long> { [new(Topic, 0)] = 6, [new(Topic, 1)] = 9 });
        // Partition 1 has no inbox row: nothing counts as applied there until both have one.
        (await checkpoints.AppliedAsync(["inbox", "chat"], Topic, CancellationToken.None)).Should().BeEquivalentTo(
            new Dictionary<int, long> { [0] = 4, [1] = 0 });
        (await checkpoints.AppliedAsync(["chat"], "other", CancellationToken.None)).Should().BeEmpty();
    }
}
