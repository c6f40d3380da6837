using Messaging.Hosting.Kafka;
using Messaging.ReadModels.Inbox;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Messaging.Projections.Inbox;

/// <summary>
/// Listens for <see cref="CursorFlushRequests"/> of this schema and cuts the <c>inbox</c> runner's
/// lingering page (<see cref="LingerCut"/>), so a chat list that waits for a device's cursor waits
/// one fetch, not the rest of <c>Projections:InboxPageLingerMs</c>. Runs only where that runner
/// lingers. One connection, held for the listen; on any error it reconnects after
/// <c>Projections:RetryBackoffMs</c> (a request made meanwhile is lost: its reader waits out the
/// linger, within its bound).
/// </summary>
internal sealed class CursorFlushListener(
    NpgsqlDataSource dataSource,
    CursorFlushRequests requests,
    LingerCut cut,
    IOptions<ProjectionsOptions> options,
    ILogger<CursorFlushListener> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var backoff = TimeSpan.FromMilliseconds(options.Value.RetryBackoffMs);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(stoppingToken);
                connection.Notification += OnNotification;
                await using (var listen = new NpgsqlCommand($"listen {CursorFlushRequests.Channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }

                ProjectionsLog.CursorFlushListening(logger, CursorFlushRequests.Channel, requests.Schema);
                while (true)
                {
                    await connection.WaitAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // Whatever broke the listen, the service goes on: a lost request only makes its reader wait out the linger.
                ProjectionsLog.CursorFlushListenFailed(logger, ex, backoff.TotalMilliseconds);
                await Task.Delay(backoff, stoppingToken);
            }
        }
    }

    private void OnNotification(object sender, NpgsqlNotificationEventArgs e)
    {
        if (string.Equals(e.Payload, requests.Schema, StringComparison.Ordinal))
        {
            cut.Request();
        }
    }
}
