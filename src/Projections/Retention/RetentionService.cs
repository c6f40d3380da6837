using Microsoft.Extensions.Options;
using Npgsql;

namespace Messaging.Projections.Retention;

/// <summary>Runs the sweeper every <see cref="RetentionOptions.IntervalSeconds"/> on the injected clock (a fake one in tests).</summary>
internal sealed class RetentionService(RetentionSweeper sweeper, IOptions<RetentionOptions> options, TimeProvider clock, ILogger<RetentionService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (!settings.Enabled)
        {
            return;
        }

        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(settings.IntervalSeconds), clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    var result = await sweeper.SweepAsync(stoppingToken);
                    if (result.HistoryRows > 0)
                    {
                        ProjectionsLog.RetentionSwept(logger, result.HistoryRows, result.Cutoffs.History);
                    }
                }
                catch (NpgsqlException ex)
                {
                    // The tables may not exist yet (migrations run by another process) or the database is down: next tick.
                    ProjectionsLog.RetentionFailed(logger, ex, settings.IntervalSeconds);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
