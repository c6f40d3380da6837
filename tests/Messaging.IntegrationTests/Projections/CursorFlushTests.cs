using Messaging.Hosting.Kafka;
using Messaging.IntegrationTests.Harness;
using Messaging.ReadModels.Inbox;
using Microsoft.Extensions.DependencyInjection;

namespace Messaging.IntegrationTests.Projections;

/// <summary>
/// The inbox runner's flush listener: a request of its schema reaches the runner's
/// <see cref="LingerCut"/>, also after the listening connection was killed. Only the inbox runner
/// runs and nothing is in <c>device.acks</c>, so the runner never lingers and never takes a
/// request itself: the test takes them.
/// </summary>
public sealed class CursorFlushTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private ProjectionsTestContext _ctx = null!;

    public async Task InitializeAsync() => _ctx = await ProjectionsTestContext.CreateAsync(s => s["Projections:Runners"] = "inbox");

    public async Task DisposeAsync() => await _ctx.DisposeAsync();

    [Fact]
    public async Task A_flush_request_reaches_the_inbox_runners_cut_and_still_does_after_the_listening_connection_is_killed()
    {
        var host = await _ctx.StartAsync();
        var cut = host.Services.GetRequiredService<LingerCut>();
        var requests = host.Services.GetRequiredService<CursorFlushRequests>();
        await Eventually.TrueAsync(() => RequestedAsync(requests, cut), Timeout, "a flush request taken from the cut");

        // Every listener of the database: the other test classes' listeners reconnect as this one must.
        await using var kill = _ctx.Db.CreateCommand("select count(pg_terminate_backend(pid)) from pg_stat_activity where query = $1 and pid <> pg_backend_pid()");
        kill.Parameters.AddWithValue($"listen {CursorFlushRequests.Channel}");
        var killed = (long)(await kill.ExecuteScalarAsync())!;
        killed.Should().BePositive("the listener was listening");
        cut.TryTake();

        await Eventually.TrueAsync(() => RequestedAsync(requests, cut), Timeout, "a flush request taken from the cut after the listener reconnected");
    }

    private static async Task<bool> RequestedAsync(CursorFlushRequests requests, LingerCut cut)
    {
        await requests.RequestAsync(CancellationToken.None);
        return cut.TryTake();
    }
}
