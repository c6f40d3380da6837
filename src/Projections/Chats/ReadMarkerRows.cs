using Messaging.Contracts.Events;
using Messaging.Projections.Runtime;
using Npgsql;
using NpgsqlTypes;
using static Messaging.ReadModels.Sql;

namespace Messaging.Projections.Chats;

/// <summary>
/// <c>read_markers</c> from <see cref="MessagesRead"/> events: per (chat, user) the highest seq
/// marked read, and the highest marked with read receipts on (<c>shared_read_seq</c>: what others
/// may see; 0 when none). A page becomes one upsert of the maxima per key (a key twice in one
/// <c>on conflict do update</c> is an error), in key order (a stable lock order for concurrent
/// writers), each column only raised: duplicates and late markers never lower a marker, so a
/// rebuild reproduces it exactly.
/// </summary>
internal static class ReadMarkerRows
{
    public const string Table = "read_markers";

    public static string Upsert(string suffix) => $"""
        insert into {Table}{suffix} as r (chat_id, user_id, read_seq, read_at, shared_read_seq)
        select * from unnest($1::text[], $2::text[], $3::bigint[], $4::timestamptz[], $5::bigint[])
        on conflict (chat_id, user_id) do update set
            read_seq = greatest(r.read_seq, excluded.read_seq),
            read_at = case when excluded.read_seq > r.read_seq then excluded.read_at else r.read_at end,
            shared_read_seq = greatest(r.shared_read_seq, excluded.shared_read_seq)
        where r.read_seq < excluded.read_seq or r.shared_read_seq < excluded.shared_read_seq
        """;

    /// <summary>The highest marker per (chat, user) among the page's records, in key order; empty when the page has none.</summary>
    public static List<(string ChatId, string UserId, long Seq, DateTime At, long SharedSeq)> Plan(IReadOnlyList<ApplyRecord> records)
    {
        Dictionary<(string, string), (long Seq, DateTime At, long SharedSeq)>? highest = null;
        for (var i = 0; i < records.Count; i++)
        {
            if (records[i].Value is not MessagesRead read)
            {
                continue;
            }

            highest ??= [];
            var key = (read.ChatId, read.Actor.UserId);
            var shared = read.Private is true ? 0 : read.Seq;
            if (!highest.TryGetValue(key, out var known))
            {
                highest[key] = (read.Seq, read.OccurredAt.UtcDateTime, shared);
            }
            else
            {
                highest[key] = read.Seq > known.Seq
                    ? (read.Seq, read.OccurredAt.UtcDateTime, Math.Max(shared, known.SharedSeq))
                    : known with { SharedSeq = Math.Max(shared, known.SharedSeq) };
            }
        }

        if (highest is null)
        {
            return [];
        }

        var rows = new List<(string, string, long, DateTime, long)>(highest.Count);
        foreach (var ((chat, user), (seq, at, shared)) in highest)
        {
            rows.Add((chat, user, seq, at, shared));
        }

        rows.Sort(static (a, b) => string.CompareOrdinal(a.Item1, b.Item1) is var c && c != 0 ? c : string.CompareOrdinal(a.Item2, b.Item2));
        return rows;
    }

    public static NpgsqlBatchCommand ApplyCommand(string sql, List<(string ChatId, string UserId, long Seq, DateTime At, long SharedSeq)> rows)
    {
        var chats = new string[rows.Count];
        var users = new string[rows.Count];
        var seqs = new long[rows.Count];
        var ats = new DateTime[rows.Count];
        var shared = new long[rows.Count];
        for (var i = 0; i < rows.Count; i++)
        {
            (chats[i], users[i], seqs[i], ats[i], shared[i]) = rows[i];
        }

        return Messaging.ReadModels.Sql.Command(sql,
            P(chats, NpgsqlDbType.Array | NpgsqlDbType.Text), P(users, NpgsqlDbType.Array | NpgsqlDbType.Text),
            P(seqs, NpgsqlDbType.Array | NpgsqlDbType.Bigint), P(ats, NpgsqlDbType.Array | NpgsqlDbType.TimestampTz),
            P(shared, NpgsqlDbType.Array | NpgsqlDbType.Bigint));
    }
}
