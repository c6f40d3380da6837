using Messaging.Contracts.Devices;
using Messaging.Contracts.Serialization;
using Messaging.Contracts.Topics;
using Messaging.Projections.Runtime;
using Npgsql;
using NpgsqlTypes;
using static Messaging.ReadModels.Sql;

namespace Messaging.Projections.Presence;

/// <summary>
/// <c>presence</c> from <c>device.sessions</c>: a change with a node is online, without one is
/// offline; <c>last_seen</c> is the change time, and an older change never overwrites a newer one.
/// </summary>
internal sealed class PresenceProjection : IProjection
{
    private static readonly ShadowTable[] OwnedTables = [new("presence", Bulk: false, Key: null)];

    private readonly string _live = UpsertSql("");
    private readonly string _shadow = UpsertSql(ShadowTable.Suffix);

    public string Name => "presence";

    public IReadOnlyList<ShadowTable> Tables => OwnedTables;

    public IReadOnlyList<string>? DeleteChatSql => null;

    public IReadOnlyList<string> Topics(TopicNames names) => [names.DeviceSessions];

    public Decision Decode(in SourceRecord record, TopicNames names)
    {
        // Compacted topic: a null value is a tombstone, nothing to apply.
        if (record.Value is null)
        {
            return Decision.Skip(null);
        }

        var decision = Decision.From(Codecs.Devices.Decode(record.Value));
        return decision.Disposition == Disposition.Apply && decision.Value is not DeviceSessionChanged ? Decision.Skip(decision.Type) : decision;
    }

    public void AppendApply(IReadOnlyList<ApplyRecord> records, NpgsqlBatch batch, TableSet tables)
    {
        var changes = new List<DeviceSessionChanged>(records.Count);
        for (var i = 0; i < records.Count; i++)
        {
            changes.Add((DeviceSessionChanged)records[i].Value);
        }

        var latest = PresenceRows.Latest(changes);
        if (latest.Count == 0)
        {
            return;
        }

        var n = latest.Count;
        var user = new string[n];
        var device = new string[n];
        var node = new int?[n];
        var online = new bool[n];
        var session = new string[n];
        var seen = new DateTime[n];
        var lease = new DateTime?[n];
        for (var i = 0; i < n; i++)
        {
            var c = latest[i];
            user[i] = c.UserId;
            device[i] = c.DeviceId;
            node[i] = c.Node;
            online[i] = c.Node is not null;
            session[i] = c.SessionId;
            seen[i] = c.ChangedAt.UtcDateTime;
            lease[i] = c.LeaseUntil?.UtcDateTime;
        }

        const NpgsqlDbType text = NpgsqlDbType.Array | NpgsqlDbType.Text;
        batch.BatchCommands.Add(Command(tables == TableSet.Live ? _live : _shadow,
            P(user, text), P(device, text), P(node, NpgsqlDbType.Array | NpgsqlDbType.Integer), P(online, NpgsqlDbType.Array | NpgsqlDbType.Boolean),
            P(session, text), P(seen, NpgsqlDbType.Array | NpgsqlDbType.TimestampTz), P(lease, NpgsqlDbType.Array | NpgsqlDbType.TimestampTz)));
    }

    public async Task BulkLoadAsync(IReadOnlyList<ApplyRecord> records, NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        // One row per device: the table stays small, the keyed upsert is the cheapest path.
        await using var batch = new NpgsqlBatch(connection, transaction);
        AppendApply(records, batch, TableSet.Shadow);
        if (batch.BatchCommands.Count > 0)
        {
            await batch.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    public IReadOnlyList<string> FinalizeSql(RetentionCutoffs cutoffs) => [];

    private static string UpsertSql(string s) => $"""
        insert into presence{s} as p (user_id, device_id, node, online, session_id, last_seen, lease_until)
        select * from unnest($1::text[], $2::text[], $3::integer[], $4::boolean[], $5::text[], $6::timestamptz[], $7::timestamptz[])
        on conflict (user_id, device_id) do update set
            node = excluded.node, online = excluded.online,
            session_id = excluded.session_id, last_seen = excluded.last_seen, lease_until = excluded.lease_until
        where p.last_seen <= excluded.last_seen
        """;
}
