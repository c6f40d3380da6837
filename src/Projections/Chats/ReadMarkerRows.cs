using Messaging.Contracts.Events;
using Messaging.Projections.Runtime;
using Npgsql;
using NpgsqlTypes;
using static Messaging.ReadModels.Sql;

namespace Messaging.Projections.Chats;

/// <summary>
/// <c>read_markers</c> from <see cref="MessagesRead"/> events: per (chat, user) the highest seq
/// marked read. A page becomes one upsert of the maximum per key (a key twice in one
/// <c>on conflict do update</c> is an error), in key order (a stable lock order for concurrent
/// writers), guarded by <c>read_seq &lt; excluded.read_seq</c>: duplicates and late markers never
/// lower a marker, so a rebuild reproduces it exactly.
/// </summary>
internal static class ReadMarkerRows
{
    public const string Table = "read_markers";

    public static string Upsert(string suffix) => $"""
        insert into {Table}{suffix} as r (chat_id, user_id, read_seq, read_at)
        select * from unnest($1::text[], $2::text[], $3::bigint[], $4::timestamptz[])
        on conflict (chat_id, user_id) do update set read_seq = excluded.read_seq, read_at = excluded.read_at
        where r.read_seq < excluded.read_seq
        """;

    /// <summary>The highest marker per (chat, user) among the page's records, in key order; empty when the page has none.</summary>
    public static List<(string ChatId, string UserId, long Seq, DateTime At)> Plan(IReadOnlyList<ApplyRecord> records)
    {
        Dictionary<(string, string), (long Seq, DateTime At)>? highest = null;
        for (var i = 0; i < records.Count; i++)
        {
            if (records[i].Value is not MessagesRead read)
            {
                continue;
            }

            highest ??= [];
            var key = (read.ChatId, read.Actor.UserId);
            if (!highest.TryGetValue(key, out var known) || read.Seq > known.Seq)
            {
                highest[key] = (read.Seq, read.OccurredAt.UtcDateTime);
            }
        }

        if (highest is null)
        {
            return [];
        }

        var rows = new List<(string, string, long, DateTime)>(highest.Count);
        foreach (var ((chat, user), (seq, at)) in highest)
        {
            rows.Add((chat, user, seq, at));
        }

        rows.Sort(static (a, b) => string.CompareOrdinal(a.Item1, b.Item1) is var c && c != 0 ? c : string.CompareOrdinal(a.Item2, b.Item2));
        return rows;
    }

    public static NpgsqlBatchCommand ApplyCommand(string sql, List<(string ChatId, string UserId, long Seq, DateTime At)> rows)
    {
        var chats = new string[rows.Count];
        var users = new string[rows.Count];
        var seqs = new long[rows.Count];
        var ats = new DateTime[rows.Count];
        for (var i = 0; i < rows.Count; i++)
        {
            (chats[i], users[i], seqs[i], ats[i]) = rows[i];
        }

        return Messaging.ReadModels.Sql.Command(sql,
            P(chats, NpgsqlDbType.Array | NpgsqlDbType.Text), P(users, NpgsqlDbType.Array | NpgsqlDbType.Text),
            P(seqs, NpgsqlDbType.Array | NpgsqlDbType.Bigint), P(ats, NpgsqlDbType.Array | NpgsqlDbType.TimestampTz));
    }
}
