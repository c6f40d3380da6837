using Messaging.Projections.Runtime;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using static Messaging.ReadModels.Sql;

namespace Messaging.Projections.Retention;

internal readonly record struct SweepResult(long HistoryRows, RetentionCutoffs Cutoffs);

/// <summary>
/// Deletes expired history rows in small statements (ctid pages), each committed alone. The inbox
/// has no rows of its own to expire: a device's pending events are the history after its cursor,
/// so what leaves the history leaves every inbox with it.
/// </summary>
internal sealed class RetentionSweeper(NpgsqlDataSource dataSource, IOptions<RetentionOptions> options, TimeProvider clock)
{
    // `ctid = any(array(...))` runs as a TID scan over exactly the rows the limited subquery found;
    // `ctid in (select ...)` may plan a join over the whole table.
    private const string DeleteHistory = "delete from messages where ctid = any(array(select ctid from messages where sent_at < $1 limit $2))";

    public RetentionCutoffs Cutoffs()
    {
        var now = clock.GetUtcNow().UtcDateTime;
        return new RetentionCutoffs(now.AddDays(-options.Value.HistoryDays));
    }

    public async Task<SweepResult> SweepAsync(CancellationToken cancellationToken)
    {
        var cutoffs = Cutoffs();
        var history = await DeleteAllAsync(DeleteHistory, cutoffs.History, cancellationToken);
        return new SweepResult(history, cutoffs);
    }

    private async Task<long> DeleteAllAsync(string sql, DateTime cutoff, CancellationToken cancellationToken)
    {
        var limit = options.Value.DeleteBatchRows;
        long total = 0;
        while (true)
        {
            await using var command = dataSource.CreateCommand(sql);
            command.Parameters.Add(P(cutoff, NpgsqlDbType.TimestampTz));
            command.Parameters.Add(P(limit, NpgsqlDbType.Integer));
            var deleted = await command.ExecuteNonQueryAsync(cancellationToken);
            total += deleted;
            if (deleted < limit)
            {
                return total;
            }
        }
    }
}
