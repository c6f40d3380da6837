using System.Text;
using Messaging.Contracts.Commands;
using Messaging.Contracts.Devices;
using Messaging.Contracts.Events;
using Messaging.Projections.Chats;
using Messaging.Projections.Rebuild;
using Messaging.Projections.Runtime;
using Messaging.ReadModels.Chats;

namespace Messaging.IntegrationTests.Projections;

/// <summary>Rebuild from the log while the live projection runs, and the swap back.</summary>
public sealed class RebuildTests : IAsyncLifetime
{
    private static readonly string[] Tables = ["chats", "chat_members", "messages", "device_cursors", "presence", "edge_node_leases"];
    private ProjectionsTestContext _ctx = null!;
    private int _chatEvents;
    private int _acks;
    private int _sessions;

    public async Task InitializeAsync() => _ctx = await ProjectionsTestContext.CreateAsync();

    public async Task DisposeAsync() => await _ctx.DisposeAsync();

    [Fact]
    public async Task Rebuild_produces_the_same_rows_as_the_live_projection_and_hands_over_to_it()
    {
        await _ctx.StartAsync();
        await MixedWorkloadAsync("a", chats: 12, messages: 40);
        await WaitForLiveAsync();
        var live = await DumpAllAsync();
        live["messages"].Should().NotBeEmpty();
        live["device_cursors"].Should().NotBeEmpty();
        live["edge_node_leases"].Should().HaveCount(2);
        // Compared in whole milliseconds: PostgreSQL keeps microseconds, and a 7-digit literal rounds where the stored value was truncated.
        (await _ctx.CountAsync($"select count(*) from edge_node_leases where node = 1 and floor(extract(epoch from renewed_at) * 1000) = {Events.Epoch.AddSeconds(20).ToUnixTimeMilliseconds()}"))
            .Should().Be(1, "node 1 keeps its latest renewal, not the older one read after it");

        var (code, output) = await _ctx.CliAsync("rebuild", "--projection", "all");

        code.Should().Be(0, output);
        output.Should().Contain("swapping tables");
        var rebuilt = await DumpAllAsync();
        foreach (var table in Tables)
        {
            rebuilt[table].Should().Equal(live[table], $"table {table} rebuilt from the log must equal the live one");
        }

        (await _ctx.CountAsync("select count(*) from checkpoints where projection like 'rebuild:%'")).Should().Be(0);
        (await _ctx.CountAsync("select count(*) from pg_tables where schemaname = current_schema() and tablename like '%\\_\\_rebuild'")).Should().Be(0);

        // The live runners carry on from the handed-over checkpoints on the swapped tables.
        await MixedWorkloadAsync("b", chats: 3, messages: 10);
        await WaitForLiveAsync();
        (await _ctx.CountAsync("select count(*) from messages where chat_id like 'b%'")).Should().Be(3 * 10);
        (await _ctx.CountAsync("select count(*) from messages")).Should().Be(live["messages"].Count + 30);
    }

    /// <summary>
    /// Two page writers COPY into the shadow table at once, and PostgreSQL may then store a later
    /// page's rows before an earlier page's (free space one backend's extension found goes to the
    /// other): a fresh-clone CI run kept the later of two differing copies of one delete. The
    /// later copy is stored first here, as that run did.
    /// </summary>
    [Fact]
    public async Task The_first_copy_in_log_order_of_a_duplicated_event_wins_wherever_the_copies_are_stored()
    {
        await _ctx.MigrateAsync();
        var projection = new ChatProjection();
        await using var connection = await _ctx.Db.OpenConnectionAsync();
        var shadow = new ShadowTables(_ctx.Namespace.Schema, maintenanceWorkMemMb: 64);
        await shadow.CreateAsync(connection, projection, CancellationToken.None);
        await ShadowTables.PrepareBulkAsync(connection, projection, CancellationToken.None);
        await _ctx.ExecAsync($"""
            insert into messages__rebuild (chat_id, seq, kind, sender_user_id, sender_device_id, body, sent_at, target_seq, {ShadowTable.LogOffsetColumn}) values
              ('d', 9, '{ChangeKinds.MessageDeleted}', 'ana', 'phone', null, '2026-01-01T00:00:00.500Z', 4, 20),
              ('d', 4, '{ChangeKinds.Message}', 'ana', 'phone', 'secret', '2026-01-01T00:00:00.004Z', null, 3),
              ('d', 9, '{ChangeKinds.MessageDeleted}', 'ana', 'phone', null, '2026-01-01T00:00:00.009Z', 4, 8)
            """);

        await shadow.FinalizeAsync(connection, projection, new RetentionCutoffs(new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc)), CancellationToken.None);

        (await _ctx.DumpAsync("select seq, kind, body, to_char(sent_at at time zone 'UTC', 'SS.MS'), to_char(deleted_at at time zone 'UTC', 'SS.MS') from messages__rebuild"))
            .Should().Equal(["(4,message,,00.004,00.009)", "(9,message.deleted,,00.009,)"], "the copy at offset 8 came first in the log");
        (await _ctx.CountAsync($"select count(*) from information_schema.columns where table_schema = current_schema() and column_name = '{ShadowTable.LogOffsetColumn}'"))
            .Should().Be(0, "the swapped table must have the live table's columns");
    }

    [Fact]
    public async Task Dry_run_prints_the_plan_and_changes_nothing()
    {
        await _ctx.MigrateAsync();
        for (var seq = 1; seq <= 5; seq++)
        {
            await _ctx.ProduceAsync(seq == 1 ? Events.Created("dry", ["alice"]) : Events.Message("dry", seq, "alice"));
        }

        var (code, output) = await _ctx.CliAsync("rebuild", "--projection", "chat", "--dry-run");

        code.Should().Be(0, output);
        output.Should().Contain("rebuild chat").And.Contain("total");
        output.Should().MatchRegex(@"total\s*│[\s│]*5\s");
        (await _ctx.CountAsync("select count(*) from pg_tables where schemaname = current_schema() and tablename like '%\\_\\_rebuild'")).Should().Be(0);
        (await _ctx.CountAsync("select count(*) from messages")).Should().Be(0);
    }

    [Fact]
    public async Task Rebuild_keeps_the_last_seq_of_a_chat_whose_history_retention_removed()
    {
        // The rebuild sets chats.last_seq once, in its finalize step, from the history rows; it
        // must do so before the expired rows go, as the live path bumped before retention ran.
        await _ctx.MigrateAsync();
        var old = DateTimeOffset.UtcNow.AddDays(-40);
        await _ctx.ProduceAsync(Events.Created("expired", ["alice", "bob"]) with { OccurredAt = old });
        for (var seq = 2; seq <= 4; seq++)
        {
            await _ctx.ProduceAsync(Events.Message("expired", seq, "alice") with { OccurredAt = old.AddMinutes(seq) });
        }

        await _ctx.ProduceAsync(Events.Created("fresh", ["alice"]));
        await _ctx.ProduceAsync(Events.Message("fresh", 2, "alice"));

        var (code, output) = await _ctx.CliAsync("rebuild", "--projection", "chat");

        code.Should().Be(0, output);
        (await _ctx.CountAsync("select count(*) from messages where chat_id = 'expired'")).Should().Be(0, "its history is older than the 30-day window");
        (await _ctx.DumpAsync("select chat_id, last_seq, last_event_at = created_at + interval '4 minutes' from chats order by chat_id"))
            .Should().Equal("(expired,4,t)", "(fresh,2,f)");
    }

    [Fact]
    public async Task Rebuilding_one_chat_restores_its_rows_and_leaves_the_others_alone()
    {
        await _ctx.StartAsync();
        await MixedWorkloadAsync("c", chats: 4, messages: 15);
        await WaitForLiveAsync();
        var before = await DumpAllAsync();
        // Damage one chat's rows the way a bad migration or a manual fix might.
        await _ctx.ExecAsync("delete from messages where chat_id = 'c1' and seq % 2 = 0; update chats set title = 'broken' where chat_id = 'c1'; delete from chat_members where chat_id = 'c1'");

        var (code, output) = await _ctx.CliAsync("rebuild", "--projection", "chat", "--chat", "c1");

        code.Should().Be(0, output);
        var after = await DumpAllAsync();
        foreach (var table in Tables)
        {
            after[table].Should().Equal(before[table], $"table {table}");
        }
    }

    private async Task WaitForLiveAsync()
    {
        await _ctx.WaitForAsync($"select coalesce(sum(next_offset), 0) from checkpoints where projection = 'chat'", _chatEvents, "chat projection at the end of the log", 90);
        await _ctx.WaitForAsync($"select coalesce(sum(next_offset), 0) from checkpoints where projection = 'inbox'", _acks, "inbox projection (cursors) at the end of the log", 90);
        await _ctx.WaitForAsync($"select coalesce(sum(next_offset), 0) from checkpoints where projection = 'presence'", _sessions, "presence projection at the end of the log", 90);
    }

    private async Task<Dictionary<string, List<string>>> DumpAllAsync()
    {
        var result = new Dictionary<string, List<string>>();
        foreach (var table in Tables)
        {
            result[table] = await _ctx.DumpAsync(table);
        }

        return result;
    }

    /// <summary>Chats with messages (plain, escaped text, attachments), membership changes, acks (some before their rows), sessions and a poison record.</summary>
    private async Task MixedWorkloadAsync(string prefix, int chats, int messages)
    {
        string[] devices = ["alice/phone", "alice/laptop", "bob/phone", "carol/phone"];
        for (var c = 0; c < chats; c++)
        {
            var chat = $"{prefix}{c}";
            await Chat(Events.Created(chat, ["alice", "bob", "carol"]));
            for (var seq = 2; seq <= messages; seq++)
            {
                ChatEvent e = (seq % 10) switch
                {
                    3 => new MembersAdded { ChatId = chat, Seq = seq, Actor = Events.Actor("alice"), OccurredAt = Events.Epoch.AddMilliseconds(seq), UserIds = ["dave"] },
                    5 when seq < 10 => new AdminGranted { ChatId = chat, Seq = seq, Actor = Events.Actor("alice"), OccurredAt = Events.Epoch.AddMilliseconds(seq), UserId = "bob" },
                    7 when seq < 10 => new MemberRemoved { ChatId = chat, Seq = seq, Actor = Events.Actor("alice"), OccurredAt = Events.Epoch.AddMilliseconds(seq), UserId = "dave" },
                    9 when seq < 20 => new MemberLeft { ChatId = chat, Seq = seq, Actor = Events.Actor("carol"), OccurredAt = Events.Epoch.AddMilliseconds(seq), UserId = "carol", PromotedAdmin = c % 2 == 0 ? "bob" : null },
                    // The rebuild decodes plain messages straight into COPY rows; text the JSON
                    // escapes and attachments (left to the full decoder) must come out the same.
                    // PostgreSQL text cannot hold NUL: parked by the live path, and by the rebuild's COPY
                    // (the page is re-run record by record), so neither has the row.
                    8 when chat == "a1" => Events.Message(chat, seq, "alice") with { Body = "bad\0body" },
                    4 => Events.Message(chat, seq, "alice") with { Body = $"\"quoted\" \\ <b>déjà</b> & 'vu' 😀 {seq}\n" },
                    6 => Events.Message(chat, seq, "bob") with { Attachments = [new Attachment($"media/{chat}/{seq}", "image/png", seq, seq % 4 == 0 ? null : "a.png")] },
                    _ => Events.Message(chat, seq, seq % 2 == 0 ? "alice" : "bob"),
                };
                await Chat(e);
                // Acks of a phone that reads along, sometimes ahead of the projection.
                if (seq % 4 == 0)
                {
                    await _ctx.AckAsync("bob/phone", chat, seq + (c % 3 == 0 ? 2 : 0));
                    _acks++;
                }
            }
        }

        await _ctx.ProduceRawAsync(_ctx.Topics.ChatEvents, $"{prefix}0", Encoding.UTF8.GetBytes("not json"));
        _chatEvents++;
        for (var i = 0; i < devices.Length; i++)
        {
            var (user, device) = (devices[i].Split('/')[0], devices[i].Split('/')[1]);
            await _ctx.SessionAsync(device, user, i % 2 == 0 ? 1 : null, Events.Epoch.AddSeconds(i));
            _sessions++;
        }

        // Node leases, one replayed out of order (it must not move node 1's lease back).
        foreach (var (node, at) in new[] { (1, 10), (0, 5), (1, 20), (1, 15) })
        {
            var renewed = Events.Epoch.AddSeconds(at);
            await _ctx.DeviceRecordAsync(SessionRules.NodeLeaseKey(node), new EdgeNodeLeased { Node = node, Incarnation = prefix + "-run", RenewedAt = renewed, LeaseUntil = renewed.AddSeconds(30) });
            _sessions++;
        }

        async Task Chat(ChatEvent e)
        {
            await _ctx.ProduceAsync(e);
            _chatEvents++;
        }
    }
}
