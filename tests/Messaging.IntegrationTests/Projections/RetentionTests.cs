using Messaging.Contracts;
using Messaging.Contracts.Protocol;
using Messaging.IntegrationTests.Harness;
using Messaging.ReadModels.Inbox;
using Microsoft.Extensions.DependencyInjection;

namespace Messaging.IntegrationTests.Projections;

public sealed class RetentionTests : IAsyncLifetime
{
    private ProjectionsTestContext _ctx = null!;

    public async Task InitializeAsync() => _ctx = await ProjectionsTestContext.CreateAsync();

    public async Task DisposeAsync() => await _ctx.DisposeAsync();

    [Fact]
    public async Task Retention_deletes_history_older_than_the_window_on_the_clock_and_undelivered_events_expire_with_it()
    {
        var clock = new ManualTimeProvider(DateTimeOffset.UtcNow);
        await _ctx.StartAsync(b => b.Services.AddSingleton<TimeProvider>(clock), s =>
        {
            s["Projections:Runners"] = "presence";
            s["Projections:Retention:HistoryDays"] = "60";
            s["Projections:Retention:IntervalSeconds"] = "60";
            // Several delete statements per sweep: the batching is exercised, not just one delete.
            s["Projections:Retention:DeleteBatchRows"] = "2";
        });
        await _ctx.ExecAsync("""
            insert into chats (chat_id, kind, title, created_at, last_seq, last_event_at) values ('c', 'group', 't', now(), 8, now());
            insert into chat_members (chat_id, user_id, role, joined_seq) values ('c', 'u', 'member', 1);
            insert into device_cursors (user_id, device_id, chat_id, acked_seq) values ('u', 'd', 'c', 2);
            insert into messages (chat_id, seq, kind, sender_user_id, sender_device_id, body, sent_at)
            select 'c', g, 'message', 'u', 'd', 'x', now() - make_interval(days => case when g <= 3 then 70 else 40 end) from generate_series(1, 8) g;
            """);
        var inbox = new InboxQueries(_ctx.Db);
        (await PendingAsync(inbox)).Should().Equal(3, 4, 5, 6, 7, 8);

        // Each probe moves the fake clock one interval: the sweep runs on the clock, not on wall time.
        await Eventually.TrueAsync(async () =>
        {
            clock.Advance(TimeSpan.FromSeconds(60));
            return await _ctx.CountAsync("select count(*) from messages") == 5;
        }, TimeSpan.FromSeconds(90), "expired rows deleted");

        (await _ctx.CountAsync("select min(seq) from messages")).Should().Be(4);
        (await PendingAsync(inbox)).Should().Equal(4, 5, 6, 7, 8);
        (await _ctx.CountAsync("select acked_seq from device_cursors")).Should().Be(2, "a cursor is not history: retention keeps it");

        // 31 days later by the clock, the rest is past the window (40 + 31 > 60).
        clock.Advance(TimeSpan.FromDays(31));
        await Eventually.TrueAsync(async () =>
        {
            clock.Advance(TimeSpan.FromSeconds(60));
            return await _ctx.CountAsync("select count(*) from messages") == 0;
        }, TimeSpan.FromSeconds(90), "rows expired after the clock moved on");
        (await PendingAsync(inbox)).Should().BeEmpty();
    }

    private static async Task<List<long>> PendingAsync(InboxQueries inbox)
    {
        var page = new List<ServerFrame>();
        await inbox.ReadSyncPageAsync(new DeviceRef("u", "d"), null, SyncPosition.Start, 100, page, CancellationToken.None);
        return [.. page.Select(f => InboxQueries.PositionOf(f).Seq)];
    }
}
