using Messaging.Contracts.Events;

namespace Messaging.IntegrationTests.Projections;

/// <summary>Read markers (issue 11) from the log: live, idempotent, and a rebuild reproduces them exactly.</summary>
public sealed class ReadMarkerRebuildTests : IAsyncLifetime
{
    private ProjectionsTestContext _ctx = null!;

    public async Task InitializeAsync() => _ctx = await ProjectionsTestContext.CreateAsync();

    public async Task DisposeAsync() => await _ctx.DisposeAsync();

    [Fact]
    public async Task Read_markers_keep_the_highest_seq_per_user_take_no_history_row_and_a_rebuild_reproduces_them_exactly()
    {
        await _ctx.StartAsync();
        var produced = 0;
        for (var c = 0; c < 3; c++)
        {
            var chat = $"r{c}";
            await Produce(Events.Created(chat, ["alice", "bob", "carol"]));
            for (var seq = 2; seq <= 12; seq++)
            {
                await Produce(Events.Message(chat, seq, seq % 2 == 0 ? "alice" : "bob"));
                if (seq % 3 == 0)
                {
                    await Produce(Read(chat, "bob", seq));
                    // A late, lower marker and a duplicate change nothing.
                    await Produce(Read(chat, "bob", seq - 2));
                    await Produce(Read(chat, "carol", seq - 1));
                    await Produce(Read(chat, "carol", seq - 1));
                }
            }
        }

        await _ctx.WaitForAsync("select coalesce(sum(next_offset), 0) from checkpoints where projection = 'chat'", produced, "chat projection at the end of the log", 90);
        var live = await _ctx.DumpAsync("read_markers");
        live.Should().HaveCount(6, "bob and carol in 3 chats");
        (await _ctx.CountAsync("select count(*) from read_markers where user_id = 'bob' and read_seq = 12")).Should().Be(3);
        (await _ctx.CountAsync("select count(*) from read_markers where user_id = 'carol' and read_seq = 11")).Should().Be(3);
        (await _ctx.CountAsync("select count(*) from messages")).Should().Be(3 * 12, "a marker is no history row");
        (await _ctx.CountAsync("select count(*) from chats where last_seq = 12")).Should().Be(3);
        var messages = await _ctx.DumpAsync("messages");
        var chats = await _ctx.DumpAsync("chats");

        var (code, output) = await _ctx.CliAsync("rebuild", "--projection", "chat");

        code.Should().Be(0, output);
        (await _ctx.DumpAsync("read_markers")).Should().Equal(live);
        (await _ctx.DumpAsync("messages")).Should().Equal(messages);
        (await _ctx.DumpAsync("chats")).Should().Equal(chats);

        async Task Produce(ChatEvent e)
        {
            await _ctx.ProduceAsync(e);
            produced++;
        }
    }

    private static MessagesRead Read(string chat, string user, long seq) => new()
    {
        ChatId = chat,
        Seq = seq,
        Actor = Events.Actor(user),
        OccurredAt = Events.Epoch.AddSeconds(seq),
    };
}
