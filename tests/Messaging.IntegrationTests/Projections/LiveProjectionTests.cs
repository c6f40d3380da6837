using System.Globalization;
using System.Text;
using Messaging.Contracts;
using Messaging.Contracts.Devices;
using Messaging.Contracts.Protocol;
using Messaging.Contracts.Serialization;
using Messaging.IntegrationTests.Harness;
using Messaging.Projections.Inbox;
using Messaging.Projections.Runtime;
using Messaging.ReadModels.Inbox;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Messaging.IntegrationTests.Projections;

/// <summary>The live projections against the real broker and database.</summary>
public sealed class LiveProjectionTests : IAsyncLifetime
{
    private ProjectionsTestContext _ctx = null!;

    public async Task InitializeAsync() => _ctx = await ProjectionsTestContext.CreateAsync();

    public async Task DisposeAsync() => await _ctx.DisposeAsync();

    [Fact]
    public async Task Rows_and_checkpoints_are_committed_together()
    {
        await _ctx.StartAsync(configure: s => s["Projections:BatchSize"] = "50");
        const int chats = 20;
        const int perChat = 50;
        var producing = Task.Run(async () =>
        {
            for (var c = 0; c < chats; c++)
            {
                await _ctx.ProduceAsync(Events.Created($"c{c}", ["alice", "bob"]));
            }

            for (var seq = 2; seq <= perChat; seq++)
            {
                for (var c = 0; c < chats; c++)
                {
                    await _ctx.ProduceAsync(Events.Message($"c{c}", seq, "alice"));
                }
            }
        });

        // One statement = one snapshot: whatever moment we look at, the history rows are exactly
        // the records the checkpoints have passed (fresh topics start at offset 0).
        var violations = 0;
        var samples = 0;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            var (messages, passed) = await SnapshotAsync();
            samples++;
            if (messages != passed)
            {
                violations++;
            }

            if (messages == chats * perChat)
            {
                break;
            }
        }

        await producing;
        await _ctx.WaitForAsync("select count(*) from messages", chats * perChat, "all history rows");
        samples.Should().BeGreaterThan(1);
        violations.Should().Be(0);
        var final = await SnapshotAsync();
        final.Passed.Should().Be(chats * perChat);
        (await _ctx.CountAsync("select count(*) from chats where last_seq = 50")).Should().Be(chats);
        (await _ctx.CountAsync("select count(*) from chat_members where left_seq is null")).Should().Be(chats * 2);
    }

    [Fact]
    public async Task Duplicate_events_in_the_log_leave_one_row_each()
    {
        await _ctx.StartAsync();
        // A Router that crashed before committing re-emits the same (chat, seq): at-least-once.
        for (var round = 0; round < 2; round++)
        {
            await _ctx.ProduceAsync(Events.Created("dup", ["alice", "bob"]));
            for (var seq = 2; seq <= 5; seq++)
            {
                await _ctx.ProduceAsync(Events.Message("dup", seq, "alice"));
            }
        }

        await _ctx.WaitForAsync("select coalesce(sum(next_offset), 0) from checkpoints where projection = 'chat'", 10, "chat checkpoint past both copies");
        (await _ctx.CountAsync("select count(*) from messages")).Should().Be(5);
        (await PendingAsync("bob", "phone")).Should().Equal(1, 2, 3, 4, 5);
        (await _ctx.CountAsync("select last_seq from chats where chat_id = 'dup'")).Should().Be(5);
        (await _ctx.CountAsync("select count(*) from dead_letters")).Should().Be(0);
    }

    [Fact]
    public async Task Acks_advance_cursors_monotonically_an_older_ack_never_lowers_one_and_an_ack_before_the_events_holds()
    {
        await _ctx.StartAsync();
        // The live path delivered seq 1..3 to bob's phone and it acked before the projection wrote the history.
        await _ctx.AckAsync("bob/phone", "race", 3);
        await _ctx.WaitForAsync("select count(*) from device_cursors where user_id = 'bob' and device_id = 'phone' and acked_seq = 3", 1, "bob's cursor");

        await _ctx.ProduceAsync(Events.Created("race", ["alice", "bob"]));
        for (var seq = 2; seq <= 4; seq++)
        {
            await _ctx.ProduceAsync(Events.Message("race", seq, "alice"));
        }

        await _ctx.WaitForAsync("select count(*) from messages where chat_id = 'race'", 4, "history");
        (await PendingAsync("alice", "phone")).Should().Equal(1, 2, 3, 4);
        (await PendingAsync("bob", "phone")).Should().Equal(4);

        // A newer ack, then an older one (a retry, a late duplicate), then a marker on the same
        // partition (one key): once the marker is applied, so are both, and the cursor stayed at 2.
        await _ctx.AckAsync("alice/phone", "race", 2);
        await _ctx.AckAsync("alice/phone", "race", 1);
        await _ctx.AckAsync("alice/phone", "marker", 1);
        await _ctx.WaitForAsync("select count(*) from device_cursors where user_id = 'alice' and chat_id = 'marker'", 1, "alice's acks applied");
        (await new InboxQueries(_ctx.Db).CursorAsync(new DeviceRef("alice", "phone"), "race", CancellationToken.None)).Should().Be(2);
        (await PendingAsync("alice", "phone")).Should().Equal(3, 4);
    }

    [Fact]
    public async Task Two_runners_advancing_one_cursor_at_once_leave_the_higher_seq()
    {
        await _ctx.MigrateAsync();
        var projection = new InboxProjection();
        // Runner 1 is inside its page: bob's cursor advanced to 5, not committed.
        await using var connection = await _ctx.Db.OpenConnectionAsync();
        await using var tx = await connection.BeginTransactionAsync();
        await using (var batch = new NpgsqlBatch(connection, tx))
        {
            projection.AppendApply([new ApplyRecord(Ack(0), new DeliveryAcked { DeviceId = "phone", UserId = "bob", ChatId = "both", Seq = 5, AckedAt = DateTimeOffset.UtcNow })], batch, TableSet.Live);
            await batch.ExecuteNonQueryAsync();
        }

        // Runner 2 (another process after a rebalance) applies an older ack of the same cursor meanwhile.
        var older = Ack(1, Codecs.Devices.Encode(new DeliveryAcked { DeviceId = "phone", UserId = "bob", ChatId = "both", Seq = 3, AckedAt = DateTimeOffset.UtcNow }));
        var applier = new PageApplier(_ctx.Db, projection, _ctx.Namespace.Schema);
        var acking = applier.ApplyAsync(Page.Plan(projection, [older], _ctx.Topics), new Dictionary<Messaging.ReadModels.Checkpoints.PartitionKey, long?>(), TableSet.Live, "inbox", takeLock: true, CancellationToken.None);
        await tx.CommitAsync();

        (await acking).Committed.Should().BeTrue();
        (await new InboxQueries(_ctx.Db).CursorAsync(new DeviceRef("bob", "phone"), "both", CancellationToken.None)).Should().Be(5);
    }

    private SourceRecord Ack(long offset, byte[]? value = null) => new(_ctx.Topics.DeviceAcks, 0, offset, "bob/phone", value);

    private async Task<List<long>> PendingAsync(string user, string device)
    {
        var page = new List<ServerFrame>();
        await new InboxQueries(_ctx.Db).ReadSyncPageAsync(new DeviceRef(user, device), null, SyncPosition.Start, 1000, page, CancellationToken.None);
        return [.. page.Select(f => InboxQueries.PositionOf(f).Seq)];
    }

    [Fact]
    public async Task Poison_records_are_dead_lettered_and_the_projection_keeps_up()
    {
        await _ctx.StartAsync();
        await _ctx.ProduceAsync(Events.Created("poison", ["alice"]));
        var malformed = await _ctx.ProduceRawAsync(_ctx.Topics.ChatEvents, "poison", Encoding.UTF8.GetBytes("{not json"));
        var future = await _ctx.ProduceRawAsync(_ctx.Topics.ChatEvents, "poison", Encoding.UTF8.GetBytes("""{"type":"MessageSent","v":99,"chatId":"poison"}"""));
        // Decodes fine, but PostgreSQL text cannot hold NUL: the apply fails for this record only.
        var nul = await _ctx.ProduceAsync(Events.Message("poison", 2, "alice") with { Body = "bad\0body" });
        for (var seq = 3; seq <= 10; seq++)
        {
            await _ctx.ProduceAsync(Events.Message("poison", seq, "alice"));
        }

        // The inbox (cursors) reads device.acks: an undecodable ack is parked there, the next ack applies.
        await _ctx.ProduceRawAsync(_ctx.Topics.DeviceAcks, "alice/phone", Encoding.UTF8.GetBytes("{not json"));
        await _ctx.AckAsync("alice/phone", "poison", 10);

        await _ctx.WaitForAsync("select count(*) from messages where chat_id = 'poison'", 9, "the good events");
        await _ctx.WaitForAsync("select count(*) from device_cursors where chat_id = 'poison' and acked_seq = 10", 1, "the good ack");
        await _ctx.WaitForAsync("select count(*) from dead_letters where projection = 'inbox'", 1, "the parked ack");
        await _ctx.WaitForAsync("select count(*) from dead_letters where projection = 'chat'", 3, "three parked records");
        var parked = await _ctx.DumpAsync("select \"offset\", type, left(error, 40) from dead_letters where projection = 'chat'");
        parked.Should().HaveCount(3);
        parked[0].Should().StartWith($"({malformed.Offset.Value},");
        parked[1].Should().StartWith($"({future.Offset.Value},MessageSent");
        parked[2].Should().StartWith($"({nul.Offset.Value},MessageSent,\"apply failed: 22");
        (await _ctx.CountAsync($"select next_offset from checkpoints where projection = 'chat' and \"partition\" = {nul.Partition.Value}")).Should().Be(nul.Offset.Value + 9);

        // Nothing fixed them yet: a retry re-applies and reports them still failing, and they stay listed.
        var (code, output) = await _ctx.CliAsync("deadletters", "retry");
        code.Should().Be(1, output);
        output.Should().Contain("still failing");
        (await _ctx.CliAsync("deadletters", "list")).Output.Should().Contain("4 dead letter(s)");
    }

    [Fact]
    public async Task Unknown_event_types_are_skipped_and_the_checkpoint_moves_past_them()
    {
        await _ctx.StartAsync(configure: s => s["Projections:Runners"] = "chat");
        await _ctx.ProduceAsync(Events.Created("fwd", ["alice"]));
        await _ctx.ProduceRawAsync(_ctx.Topics.ChatEvents, "fwd", Encoding.UTF8.GetBytes("""{"type":"ChatArchived","v":1,"chatId":"fwd","seq":2}"""));
        var last = await _ctx.ProduceAsync(Events.Message("fwd", 3, "alice"));

        await _ctx.WaitForAsync($"select coalesce(max(next_offset), 0) from checkpoints where projection = 'chat' and \"partition\" = {last.Partition.Value}", last.Offset.Value + 1, "checkpoint past the unknown record");
        (await _ctx.CountAsync("select count(*) from messages")).Should().Be(2);
        (await _ctx.CountAsync("select count(*) from dead_letters")).Should().Be(0);
    }

    [Fact]
    public async Task A_runner_resumes_from_the_database_checkpoint_not_the_group_offset()
    {
        var first = await _ctx.ProduceAsync(Events.Created("resume", ["alice"]));
        await _ctx.ProduceAsync(Events.Message("resume", 2, "alice"));
        await _ctx.ProduceAsync(Events.Message("resume", 3, "alice"));
        await _ctx.MigrateAsync();
        // As if seq 1 and 2 had been applied by an earlier owner whose rows were since rebuilt away.
        await _ctx.ExecAsync($"insert into checkpoints (projection, topic, \"partition\", next_offset) values ('chat', '{_ctx.Topics.ChatEvents}', {first.Partition.Value}, {first.Offset.Value + 2})");

        await _ctx.StartAsync(configure: s => s["Projections:Runners"] = "chat");
        await _ctx.WaitForAsync("select count(*) from messages", 1, "only the record after the checkpoint");
        (await _ctx.CountAsync("select seq from messages")).Should().Be(3);
    }

    [Fact]
    public async Task A_writer_with_a_stale_checkpoint_cannot_write()
    {
        await _ctx.MigrateAsync();
        var topic = _ctx.Topics.ChatEvents;
        await _ctx.ExecAsync($"insert into checkpoints (projection, topic, \"partition\", next_offset) values ('chat', '{topic}', 0, 10)");
        var projection = new Messaging.Projections.Chats.ChatProjection();
        var applier = new PageApplier(_ctx.Db, projection, _ctx.Namespace.Schema);
        var record = new SourceRecord(topic, 0, 7, "stale", Messaging.Contracts.Serialization.Codecs.Events.Encode(Events.Created("stale", ["alice"])));
        var page = Page.Plan(projection, [record], _ctx.Topics);

        // This owner last saw 7; someone else has since moved the partition to 10.
        var outcome = await applier.ApplyAsync(page, new Dictionary<Messaging.ReadModels.Checkpoints.PartitionKey, long?> { [new(topic, 0)] = 7 }, TableSet.Live, "chat", takeLock: true, CancellationToken.None);

        outcome.Committed.Should().BeFalse();
        outcome.Fenced.Should().ContainSingle();
        (await _ctx.CountAsync("select count(*) from chats")).Should().Be(0);
        (await _ctx.CountAsync("select next_offset from checkpoints")).Should().Be(10);

        // The owner that really stands at 10 writes its next record.
        var next = Page.Plan(projection, [record with { Offset = 10 }], _ctx.Topics);
        var owner = await applier.ApplyAsync(next, new Dictionary<Messaging.ReadModels.Checkpoints.PartitionKey, long?> { [new(topic, 0)] = 10 }, TableSet.Live, "chat", takeLock: true, CancellationToken.None);
        owner.Committed.Should().BeTrue();
        (await _ctx.CountAsync("select count(*) from chats")).Should().Be(1);
        (await _ctx.CountAsync("select next_offset from checkpoints")).Should().Be(11);
    }

    [Fact]
    public async Task Two_runners_in_one_group_split_the_partitions()
    {
        var a = await _ctx.StartAsync(configure: s => s["Projections:Runners"] = "chat");
        var b = await _ctx.StartAsync(configure: s => s["Projections:Runners"] = "chat");
        // Both joined the group: the partitions of chat.events between them, some for each.
        await Eventually.TrueAsync(() => Task.FromResult(Owned(a) > 0 && Owned(b) > 0 && Owned(a) + Owned(b) == _ctx.EventPartitions), TimeSpan.FromSeconds(60), "a rebalance that splits the partitions");
        const int chats = 40;
        for (var c = 0; c < chats; c++)
        {
            await _ctx.ProduceAsync(Events.Created($"split{c}", ["alice"]));
            await _ctx.ProduceAsync(Events.Message($"split{c}", 2, "alice"));
        }

        await _ctx.WaitForAsync("select count(*) from messages", chats * 2, "every event once", 90);
        await _ctx.WaitForAsync("select coalesce(sum(next_offset), 0) from checkpoints where projection = 'chat'", chats * 2, "checkpoints at the end");
        Applied(a).Should().BePositive();
        Applied(b).Should().BePositive();
        (Applied(a) + Applied(b)).Should().BeGreaterThanOrEqualTo(chats * 2);

        static int Owned(ServiceHost host) =>
            host.Services.GetRequiredService<ProjectionMetrics>().Snapshot().TryGetValue("chat", out var c) ? c.OwnedPartitions : 0;

        static long Applied(ServiceHost host) =>
            host.Services.GetRequiredService<ProjectionMetrics>().Snapshot().TryGetValue("chat", out var c) ? c.Applied : 0;
    }

    [Fact]
    public async Task Presence_follows_session_changes_and_ignores_older_ones()
    {
        await _ctx.StartAsync(configure: s => s["Projections:Runners"] = "presence");
        var t0 = DateTimeOffset.UtcNow;
        await _ctx.SessionAsync("p1", "alice", 2, t0);
        await _ctx.SessionAsync("p2", "alice", 1, t0);
        await _ctx.SessionAsync("p1", "alice", null, t0.AddSeconds(5));
        await _ctx.SessionAsync("p2", "alice", 3, t0.AddSeconds(-5));
        // Another user's device with the same id is another row, untouched by alice's p1.
        await _ctx.SessionAsync("p1", "bob", 4, t0);

        await _ctx.WaitForAsync("select count(*) from presence", 3, "three devices");
        await _ctx.WaitForAsync("select coalesce(sum(next_offset), 0) from checkpoints where projection = 'presence'", 5, "all session records");
        (await _ctx.DumpAsync("select user_id, device_id, node, online from presence order by user_id, device_id")).Should().Equal("(alice,p1,,f)", "(alice,p2,1,t)", "(bob,p1,4,t)");
    }

    [Fact]
    public async Task Presence_at_a_time_holds_a_session_live_on_the_lease_of_the_node_run_that_announced_it()
    {
        await _ctx.StartAsync(configure: s => s["Projections:Runners"] = "presence");
        var t0 = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        DeviceSessionChanged Session(string user, string device, int? node, string? run, int changedAt, int? leaseUntil) => new()
        {
            UserId = user,
            DeviceId = device,
            Node = node,
            SessionId = "s-" + user + device,
            ChangedAt = t0.AddSeconds(changedAt),
            LeaseUntil = leaseUntil is { } l ? t0.AddSeconds(l) : null,
            Incarnation = run,
        };
        EdgeNodeLeased Lease(int node, string run, int renewedAt) => new() { Node = node, Incarnation = run, RenewedAt = t0.AddSeconds(renewedAt), LeaseUntil = t0.AddSeconds(renewedAt + 30) };

        await _ctx.DeviceRecordAsync(SessionRules.NodeLeaseKey(0), Lease(0, "r1", 0));
        // Announced by node 0's current run a minute ago; its own lease ran out, the node's holds.
        await _ctx.DeviceRecordAsync("alice/p1", Session("alice", "p1", 0, "r1", -60, -30));
        // Announced by an earlier run of node 0: nobody renews it.
        await _ctx.DeviceRecordAsync("alice/p2", Session("alice", "p2", 0, "r0", -60, -30));
        // A build that renews each session (no run): its own lease.
        await _ctx.DeviceRecordAsync("bob/p1", Session("bob", "p1", 1, null, -10, 30));
        // A run whose lease was never read: its own lease.
        await _ctx.DeviceRecordAsync("bob/p2", Session("bob", "p2", 1, "r9", -10, 30));
        await _ctx.DeviceRecordAsync("carol/p1", Session("carol", "p1", null, "r1", -5, null));
        // A replayed older renewal does not move the node's lease back.
        await _ctx.DeviceRecordAsync(SessionRules.NodeLeaseKey(0), Lease(0, "r1", -20));

        await _ctx.WaitForAsync("select coalesce(sum(next_offset), 0) from checkpoints where projection = 'presence'", 7, "all session and lease records");
        (await _ctx.DumpAsync("select node, incarnation, renewed_at = '" + t0.ToString("O", CultureInfo.InvariantCulture) + "'::timestamptz from edge_node_leases")).Should().Equal("(0,r1,t)");

        Task<List<string>> At(int seconds) => _ctx.DumpAsync(
            $"select user_id, device_id, node, online, (extract(epoch from last_seen - '{t0.ToString("O", CultureInfo.InvariantCulture)}'::timestamptz))::int from presence_at('{t0.AddSeconds(seconds).ToString("O", CultureInfo.InvariantCulture)}'::timestamptz)");
        (await At(0)).Should().Equal("(alice,p1,0,t,0)", "(alice,p2,,f,-60)", "(bob,p1,1,t,-10)", "(bob,p2,1,t,-10)", "(carol,p1,,f,-5)");
        (await At(31)).Should().Equal("(alice,p1,,f,0)", "(alice,p2,,f,-60)", "(bob,p1,,f,-10)", "(bob,p2,,f,-10)", "(carol,p1,,f,-5)");
    }

    private async Task<(long Messages, long Passed)> SnapshotAsync()
    {
        await using var command = _ctx.Db.CreateCommand(
            "select (select count(*) from messages), (select coalesce(sum(next_offset), 0) from checkpoints where projection = 'chat')");
        try
        {
            await using var reader = await command.ExecuteReaderAsync();
            await reader.ReadAsync();
            return (reader.GetInt64(0), reader.GetInt64(1));
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return (0, 0);
        }
    }
}
