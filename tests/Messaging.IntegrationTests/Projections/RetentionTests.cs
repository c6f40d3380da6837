using Messaging.IntegrationTests.Harness;
using Microsoft.Extensions.DependencyInjection;

namespace Messaging.IntegrationTests.Projections;

public sealed class RetentionTests : IAsyncLifetime
{
    private ProjectionsTestContext _ctx = null!;

    public async Task InitializeAsync() => _ctx = await ProjectionsTestContext.CreateAsync();

    public async Task DisposeAsync() => await _ctx.DisposeAsync();

    [Fact]
    public async Task Retention_deletes_inbox_and_history_rows_older_than_the_window_on_the_clock()
    {
        var clock = new ManualTimeProvider(DateTimeOffset.UtcNow);
        await _ctx.StartAsync(b => b.Services.AddSingleton<TimeProvider>(clock), s =>
        {
            s["Projections:Runners"] = "presence";
            s["Projections:Retention:InboxDays"] = "30";
            s["Projections:Retention:HistoryDays"] = "60";
            s["Projections:Retention:IntervalSeconds"] = "60";
            // Several delete statements per sweep: the batching is exercised, not just one delete.
            s["Projections:Retention:DeleteBatchRows"] = "2";
        });
        await _ctx.ExecAsync("""
            insert into inbox (user_id, device_id, chat_id, seq, created_at)
            select 'u', 'd', 'c', g, now() - make_interval(days => case when g <= 5 then 40 else 1 end) from generate_series(1, 8) g;
            insert into messages (chat_id, seq, kind, sender_user_id, sender_device_id, body, sent_at)
            select 'c', g, 'message', 'u', 'd', 'x', now() - make_interval(days => case when g <= 3 then 70 else 40 end) from generate_series(1, 8) g;
            """);

        // Each probe moves the fake clock one interval: the sweep runs on the clock, not on wall time.
        await Eventually.TrueAsync(async () =>
        {
            clock.Advance(TimeSpan.FromSeconds(60));
            return await _ctx.CountAsync("select count(*) from inbox") == 3 && await _ctx.CountAsync("select count(*) from messages") == 5;
        }, TimeSpan.FromSeconds(30), "expired rows deleted");

        (await _ctx.CountAsync("select min(seq) from inbox")).Should().Be(6);
        (await _ctx.CountAsync("select min(seq) from messages")).Should().Be(4);

        // 31 days later by the clock, the rest is past both windows (1 + 31 > 30, 40 + 31 > 60).
        clock.Advance(TimeSpan.FromDays(31));
        await Eventually.TrueAsync(async () =>
        {
            clock.Advance(TimeSpan.FromSeconds(60));
            return await _ctx.CountAsync("select count(*) from inbox") == 0 && await _ctx.CountAsync("select count(*) from messages") == 0;
        }, TimeSpan.FromSeconds(30), "rows expired after the clock moved on");
    }
}
