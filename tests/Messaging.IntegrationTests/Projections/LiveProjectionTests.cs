using System.Text;
using Messaging.IntegrationTests.Harness;
using Messaging.Projections.Runtime;
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
                await _ctx.ProduceAsync(Events.Created($"c{c}", ["alice", "bob"], "alice/phone", "bob/phone"));
            }

            for (var seq = 2; seq <= perChat; seq++)
            {
                for (var c = 0; c < chats; c++)
                {
                    await _ctx.ProduceAsync(Events.Message($"c{c}", seq, "alice", "alice/phone", "bob/phone"));
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
            await _ctx.ProduceAsync(Events.Created("dup", ["alice", "bob"], "alice/phone", "bob/phone"));
            for (var seq = 2; seq <= 5; seq++)
            {
                await _ctx.ProduceAsync(Events.Message("dup", seq, "alice", "alice/phone", "bob/phone"));
            }
        }

        await _ctx.WaitForAsync("select coalesce(sum(next_offset), 0) from checkpoints where projection = 'chat'", 10, "chat checkpoint past both copies");
        await _ctx.WaitForAsync("select coalesce(sum(next_offset), 0) from checkpoints where projection = 'inbox' and topic like '%chat.events'", 10, "inbox checkpoint past both copies");
        (await _ctx.CountAsync("select count(*) from messages")).Should().Be(5);
        (await _ctx.CountAsync("select count(*) from inbox")).Should().Be(10);
        (await _ctx.CountAsync("select last_seq from chats where chat_id = 'dup'")).Should().Be(5);
        (await _ctx.CountAsync("select count(*) from dead_letters")).Should().Be(0);
    }

    [Fact]
    public async Task Ack_before_inbox_row_prevents_the_late_insert()
    {
        await _ctx.StartAsync();
        // The live path delivered seq 1..3 to bob's phone and it acked before the projection wrote the rows.
        await _ctx.AckAsync("bob/phone", "race", 3);
        await _ctx.WaitForAsync("select count(*) from ack_watermarks where user_id = 'bob' and device_id = 'phone' and acked_seq = 3", 1, "bob's watermark");

        await _ctx.ProduceAsync(Events.Created("race", ["alice", "bob"], "alice/phone", "bob/phone"));
        for (var seq = 2; seq <= 4; seq++)
        {
            await _ctx.ProduceAsync(Events.Message("race", seq, "alice", "alice/phone", "bob/phone"));
        }

        await _ctx.WaitForAsync("select count(*) from messages where chat_id = 'race'", 4, "history");
        await _ctx.WaitForAsync("select count(*) from inbox where user_id = 'alice' and device_id = 'phone'", 4, "alice's inbox");
        (await _ctx.DumpAsync("select * from inbox where user_id = 'bob' and device_id = 'phone'")).Should().ContainSingle().Which.Should().Contain(",4,");

        // An ack after the rows exist deletes them up to its seq and raises the watermark.
        await _ctx.AckAsync("alice/phone", "race", 2);
        await _ctx.WaitForAsync("select count(*) from inbox where user_id = 'alice' and device_id = 'phone'", 2, "alice's inbox after her ack");
        (await _ctx.CountAsync("select min(seq) from inbox where user_id = 'alice' and device_id = 'phone'")).Should().Be(3);
    }

    [Fact]
    public async Task An_ack_from_another_runner_waits_for_an_inbox_page_in_flight_and_deletes_its_rows()
    {
        await _ctx.MigrateAsync();
        var projection = new Messaging.Projections.Inbox.InboxProjection();
        // Runner 1 (chat.events) is inside its page: rows for bob's phone inserted, not committed.
        await using var connection = await _ctx.Db.OpenConnectionAsync();
        await using var tx = await connection.BeginTransactionAsync();
        await using (var batch = new NpgsqlBatch(connection, tx))
        {
            ApplyRecord[] events = [.. Enumerable.Range(1, 3).Select(seq => new ApplyRecord(
                new SourceRecord(_ctx.Topics.ChatEvents, 0, seq - 1, "inflight", null),
                seq == 1 ? Events.Created("inflight", ["alice", "bob"], "bob/phone") : Events.Message("inflight", seq, "alice", "bob/phone")))];
            projection.AppendApply(events, batch, TableSet.Live);
            await batch.ExecuteNonQueryAsync();
        }

        // Runner 2 (device.acks) applies bob's ack of seq 3 meanwhile: its delete must not run on a
        // snapshot that misses runner 1's rows, or they would outlive the ack.
        var ack = new SourceRecord(_ctx.Topics.DeviceAcks, 0, 0, "bob/phone", Messaging.Contracts.Serialization.Codecs.Devices.Encode(
            new Messaging.Contracts.Devices.DeliveryAcked { DeviceId = "phone", UserId = "bob", ChatId = "inflight", Seq = 3, AckedAt = DateTimeOffset.UtcNow }));
        var applier = new PageApplier(_ctx.Db, projection, _ctx.Namespace.Schema);
        var acking = applier.ApplyAsync(Page.Plan(projection, [ack], _ctx.Topics), new Dictionary<Messaging.ReadModels.Checkpoints.PartitionKey, long?>(), TableSet.Live, "inbox", takeLock: true, CancellationToken.None);
        await _ctx.WaitForAsync(
            """
            select count(*) from pg_locks l, (select hashtextextended('inbox-acks/' || current_schema(), 0) as k) x
            where l.locktype = 'advisory' and not l.granted and l.classid::bigint = (x.k >> 32) & 4294967295 and l.objid::bigint = x.k & 4294967295
            """,
            1,
            "the ack page waiting for the inbox page");
        acking.IsCompleted.Should().BeFalse();

        await tx.CommitAsync();
        (await acking).Committed.Should().BeTrue();
        (await _ctx.CountAsync("select count(*) from inbox where user_id = 'bob' and device_id = 'phone'")).Should().Be(0);
        (await _ctx.CountAsync("select acked_seq from ack_watermarks where user_id = 'bob' and device_id = 'phone'")).Should().Be(3);
    }

    [Fact]
    public async Task Poison_records_are_dead_lettered_and_the_projection_keeps_up()
    {
        await _ctx.StartAsync();
        await _ctx.ProduceAsync(Events.Created("poison", ["alice"], "alice/phone"));
        var malformed = await _ctx.ProduceRawAsync(_ctx.Topics.ChatEvents, "poison", Encoding.UTF8.GetBytes("{not json"));
        var future = await _ctx.ProduceRawAsync(_ctx.Topics.ChatEvents, "poison", Encoding.UTF8.GetBytes("""{"type":"MessageSent","v":99,"chatId":"poison"}"""));
        // Decodes fine, but PostgreSQL text cannot hold NUL: the apply fails for this record only.
        var nul = await _ctx.ProduceAsync(Events.Message("poison", 2, "alice", "alice/phone") with { Body = "bad\0body" });
        for (var seq = 3; seq <= 10; seq++)
        {
            await _ctx.ProduceAsync(Events.Message("poison", seq, "alice", "alice/phone"));
        }

        await _ctx.WaitForAsync("select count(*) from messages where chat_id = 'poison'", 9, "the good events");
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
        // The inbox projection parked the two undecodable records as well (the NUL body has no inbox column).
        (await _ctx.CliAsync("deadletters", "list")).Output.Should().Contain("5 dead letter(s)");
    }

    [Fact]
    public async Task Unknown_event_types_are_skipped_and_the_checkpoint_moves_past_them()
    {
        await _ctx.StartAsync(configure: s => s["Projections:Runners"] = "chat");
        await _ctx.ProduceAsync(Events.Created("fwd", ["alice"], "alice/phone"));
        await _ctx.ProduceRawAsync(_ctx.Topics.ChatEvents, "fwd", Encoding.UTF8.GetBytes("""{"type":"ChatArchived","v":1,"chatId":"fwd","seq":2}"""));
        var last = await _ctx.ProduceAsync(Events.Message("fwd", 3, "alice", "alice/phone"));

        await _ctx.WaitForAsync($"select coalesce(max(next_offset), 0) from checkpoints where projection = 'chat' and \"partition\" = {last.Partition.Value}", last.Offset.Value + 1, "checkpoint past the unknown record");
        (await _ctx.CountAsync("select count(*) from messages")).Should().Be(2);
        (await _ctx.CountAsync("select count(*) from dead_letters")).Should().Be(0);
    }

    [Fact]
    public async Task A_runner_resumes_from_the_database_checkpoint_not_the_group_offset()
    {
        var first = await _ctx.ProduceAsync(Events.Created("resume", ["alice"], "alice/phone"));
        await _ctx.ProduceAsync(Events.Message("resume", 2, "alice", "alice/phone"));
        await _ctx.ProduceAsync(Events.Message("resume", 3, "alice", "alice/phone"));
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
        var record = new SourceRecord(topic, 0, 7, "stale", Messaging.Contracts.Serialization.Codecs.Events.Encode(Events.Created("stale", ["alice"], "alice/phone")));
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
            await _ctx.ProduceAsync(Events.Created($"split{c}", ["alice"], "alice/phone"));
            await _ctx.ProduceAsync(Events.Message($"split{c}", 2, "alice", "alice/phone"));
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
