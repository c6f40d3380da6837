using System.Globalization;
using DuckDB.NET.Data;

namespace Messaging.Projections.Analytics;

/// <summary>One query's answer: its columns and rows (values as DuckDB returns them).</summary>
public sealed record QueryResult(string Name, string Description, IReadOnlyList<string> Columns, IReadOnlyList<object?[]> Rows);

/// <summary>
/// Example analytics over the archive's Parquet files with DuckDB (in-process, no server), from a
/// local directory: DuckDB reads S3 through its <c>httpfs</c> extension, which is not built into
/// the DuckDB.NET package and is downloaded on first use (no network here), so the files are
/// copied down first (<see cref="Archive.ArchiveStore.DownloadAsync"/>). docs/analytics.md
/// explains each query.
/// </summary>
public static class ArchiveQueries
{
    /// <summary>
    /// <c>events</c>: every archived event once. The log is at-least-once, so a consumer
    /// de-duplicates on the event's identity: <c>(chat_id, seq)</c>, or <c>(chat_id,
    /// actor_user_id, seq)</c> for <c>MessagesRead</c> (docs/events.md); the first copy in log
    /// order wins. Records that did not decode (<c>type</c> null) are left out.
    /// <c>chats</c>: each chat's kind, from its <c>ChatCreated</c>.
    /// </summary>
    public const string Views = """
        create view archived as select * from read_parquet({files}, union_by_name = true);
        create view events as
            select * from archived
            where type is not null
            qualify row_number() over (
                partition by chat_id, seq, type = 'MessagesRead', case when type = 'MessagesRead' then actor_user_id end
                order by "partition", "offset") = 1;
        create view chats as select chat_id, chat_kind as kind from events where type = 'ChatCreated';
        """;

    public static readonly IReadOnlyList<(string Name, string Description, string Sql)> Examples =
    [
        ("messages_per_hour", "Messages per hour per chat kind", """
            select date_trunc('hour', e.occurred_at) as hour, c.kind, count(*) as messages
            from events e join chats c using (chat_id)
            where e.type = 'MessageSent'
            group by all order by hour, kind
            """),
        ("active_users_per_day", "Active users per day (users who did anything: sent, edited, reacted, read, changed a group)", """
            select cast(occurred_at as date) as day, count(distinct actor_user_id) as active_users
            from events group by all order by day
            """),
        ("group_size", "Median group size (members now: created with + added - removed - left)", """
            with sizes as (
                select chat_id, sum(case type when 'ChatCreated' then member_count when 'MembersAdded' then member_count
                                               when 'MemberRemoved' then -1 when 'MemberLeft' then -1 else 0 end) as members
                from events where chat_id in (select chat_id from chats where kind = 'Group')
                group by chat_id)
            select median(members) as median_members, count(*) as groups from sizes
            """),
        ("read_lag", "Delivery lag as the log shows it: from a message to each other member's first read marker covering it (ms)", """
            with messages as (select chat_id, seq, actor_user_id as sender, occurred_at from events where type = 'MessageSent'),
            reads as (select chat_id, seq, actor_user_id as reader, occurred_at from events where type = 'MessagesRead'),
            first_reads as (
                select m.chat_id, m.seq, r.reader, min(r.occurred_at) as read_at, any_value(m.occurred_at) as sent_at
                from messages m join reads r on r.chat_id = m.chat_id and r.seq >= m.seq and r.reader <> m.sender and r.occurred_at >= m.occurred_at
                group by m.chat_id, m.seq, r.reader)
            select count(*) as reads,
                   quantile_cont(date_diff('millisecond', sent_at, read_at), 0.5) as p50_ms,
                   quantile_cont(date_diff('millisecond', sent_at, read_at), 0.9) as p90_ms,
                   quantile_cont(date_diff('millisecond', sent_at, read_at), 0.99) as p99_ms
            from first_reads
            """),
    ];

    /// <summary>Runs <paramref name="queries"/> (default: <see cref="Examples"/>) over the Parquet files below <paramref name="directory"/>.</summary>
    public static async Task<List<QueryResult>> RunAsync(string directory, IReadOnlyList<(string Name, string Description, string Sql)>? queries = null, CancellationToken cancellationToken = default)
    {
        var files = Directory.GetFiles(directory, "*.parquet", SearchOption.AllDirectories);
        if (files.Length == 0)
        {
            throw new InvalidOperationException($"No archive files under {directory}.");
        }

        // A list literal of the files (not a glob): exactly the recorded files that were downloaded.
        var list = "[" + string.Join(", ", files.Order(StringComparer.Ordinal).Select(f => "'" + f.Replace("'", "''", StringComparison.Ordinal) + "'")) + "]";
        await using var connection = new DuckDBConnection("Data Source=:memory:");
        await connection.OpenAsync(cancellationToken);
        await using (var views = connection.CreateCommand())
        {
            views.CommandText = Views.Replace("{files}", list, StringComparison.Ordinal);
            await views.ExecuteNonQueryAsync(cancellationToken);
        }

        var results = new List<QueryResult>();
        foreach (var (name, description, sql) in queries ?? Examples)
        {
            await using var command = connection.CreateCommand();
            command.CommandText = sql;
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            var columns = new string[reader.FieldCount];
            for (var i = 0; i < columns.Length; i++)
            {
                columns[i] = reader.GetName(i);
            }

            var rows = new List<object?[]>();
            while (await reader.ReadAsync(cancellationToken))
            {
                var row = new object?[columns.Length];
                for (var i = 0; i < row.Length; i++)
                {
                    row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
                }

                rows.Add(row);
            }

            results.Add(new QueryResult(name, description, columns, rows));
        }

        return results;
    }

    /// <summary>A value as the CLI prints it.</summary>
    public static string Format(object? value) => value switch
    {
        null => "",
        DateTime t => t.ToString(t.TimeOfDay == TimeSpan.Zero ? "yyyy-MM-dd" : "yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture),
        DateOnly d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        double d => d.ToString("0.##", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
