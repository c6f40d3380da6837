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

    /// <summary>
    /// <c>acks</c>: the archived <c>device.acks</c>, each (device, chat, seq) once at its
    /// earliest <c>acked_at</c> (duplicates of an at-least-once log; a device re-acking the same
    /// seq after a reconnect), records that did not decode left out. Empty when no ack is archived.
    /// </summary>
    public const string AcksView = """
        create view acks as
            select chat_id, user_id, device_id, seq, min(acked_at) as acked_at
            from read_parquet({files}, union_by_name = true)
            where type is not null
            group by all;
        """;

    private const string NoAcksView = """
        create view acks as
            select cast(null as varchar) as chat_id, cast(null as varchar) as user_id, cast(null as varchar) as device_id,
                   cast(null as bigint) as seq, cast(null as timestamp) as acked_at
            where false;
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
        ("read_lag", "Read lag: from a message to each other member's first read marker covering it (ms)", """
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
        ("delivery_lag", "Delivery lag: from a message to each other member's device acknowledging it (ms)", """
            with messages as (select chat_id, seq, actor_user_id as sender, occurred_at from events where type = 'MessageSent'),
            ranked as (
                -- An ack holds everything up to its seq: it delivers the seqs above the device's
                -- highest earlier ack. A device's first ack in a chat counts for its own seq only:
                -- it may cover messages from before the device or its user was there.
                select *, coalesce(max(seq) over (partition by chat_id, user_id, device_id order by acked_at, seq
                                                  rows between unbounded preceding and 1 preceding), seq - 1) as before
                from acks),
            deliveries as (
                select m.occurred_at as sent_at, a.acked_at
                from messages m join ranked a on a.chat_id = m.chat_id and m.seq > a.before and m.seq <= a.seq and a.user_id <> m.sender)
            select count(*) as deliveries,
                   quantile_cont(date_diff('millisecond', sent_at, acked_at), 0.5) as p50_ms,
                   quantile_cont(date_diff('millisecond', sent_at, acked_at), 0.9) as p90_ms,
                   quantile_cont(date_diff('millisecond', sent_at, acked_at), 0.99) as p99_ms
            from deliveries
            """),
    ];

    /// <summary>
    /// Runs <paramref name="queries"/> (default: <see cref="Examples"/>) over the <c>chat.events</c>
    /// Parquet files below <paramref name="directory"/> and the <c>device.acks</c> files below
    /// <paramref name="acksDirectory"/> (none: an empty <c>acks</c> view).
    /// </summary>
    public static async Task<List<QueryResult>> RunAsync(string directory, string? acksDirectory = null, IReadOnlyList<(string Name, string Description, string Sql)>? queries = null, CancellationToken cancellationToken = default)
    {
        var files = ParquetFiles(directory);
        if (files is null)
        {
            throw new InvalidOperationException($"No archive files under {directory}.");
        }

        var acks = acksDirectory is null ? null : ParquetFiles(acksDirectory);
        await using var connection = new DuckDBConnection("Data Source=:memory:");
        await connection.OpenAsync(cancellationToken);
        await using (var views = connection.CreateCommand())
        {
            views.CommandText = Views.Replace("{files}", files, StringComparison.Ordinal)
                + (acks is null ? NoAcksView : AcksView.Replace("{files}", acks, StringComparison.Ordinal));
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

    /// <summary>
    /// A DuckDB list literal of the Parquet files below <paramref name="directory"/> (not a glob:
    /// exactly the recorded files that were downloaded); null when there are none.
    /// </summary>
    private static string? ParquetFiles(string directory)
    {
        var files = Directory.Exists(directory) ? Directory.GetFiles(directory, "*.parquet", SearchOption.AllDirectories) : [];
        return files.Length == 0 ? null : "[" + string.Join(", ", files.Order(StringComparer.Ordinal).Select(f => "'" + f.Replace("'", "''", StringComparison.Ordinal) + "'")) + "]";
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
