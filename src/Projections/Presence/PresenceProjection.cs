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
/// Each Edge node's latest lease (<see cref="EdgeNodeLeased"/>) goes to <c>edge_node_leases</c>:
/// sessions are written only on connect and disconnect, so whether an online row is still live
/// depends on its node run's lease, which <c>presence_at(as_of)</c> applies (migration 0008).
/// </summary>
internal sealed class PresenceProjection : IProjection
{
    private const NpgsqlDbType Texts = NpgsqlDbType.Array | NpgsqlDbType.Text;
    private const NpgsqlDbType Times = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz;

    private static readonly ShadowTable[] OwnedTables = [new("presence", Bulk: false, Key: null), new("edge_node_leases", Bulk: false, Key: null)];

    private readonly string _live = UpsertSql("");
    private readonly string _shadow = UpsertSql(ShadowTable.Suffix);
    private readonly string _liveLeases = LeaseUpsertSql("");
    private readonly string _shadowLeases = LeaseUpsertSql(ShadowTable.Suffix);

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
        return decision.Disposition == Disposition.Apply && decision.Value is not (DeviceSessionChanged or EdgeNodeLeased) ? Decision.Skip(decision.Type) : decision;
    }

    public void AppendApply(IReadOnlyList<ApplyRecord> records, NpgsqlBatch batch, TableSet tables)
    {
        var changes = new List<DeviceSessionChanged>(records.Count);
        var leases = new List<EdgeNodeLeased>();
        for (var i = 0; i < records.Count; i++)
        {
            switch (records[i].Value)
            {
                case DeviceSessionChanged change:
                    changes.Add(change);
                    break;
                case EdgeNodeLeased nodeLease:
                    leases.Add(nodeLease);
                    break;
            }
        }

        AppendLeases(PresenceRows.LatestLeases(leases), batch, tables);
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
        var incarnation = new string?[n];
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
            incarnation[i] = c.Incarnation;
        }

        batch.BatchCommands.Add(Command(tables == TableSet.Live ? _live : _shadow,
            P(user, Texts), P(device, Texts), P(node, NpgsqlDbType.Array | NpgsqlDbType.Integer), P(online, NpgsqlDbType.Array | NpgsqlDbType.Boolean),
            P(session, Texts), P(seen, Times), P(lease, Times), P(incarnation, Texts)));
    }

    private void AppendLeases(List<EdgeNodeLeased> latest, NpgsqlBatch batch, TableSet tables)
    {
        if (latest.Count == 0)
        {
            return;
        }

        var n = latest.Count;
        var node = new int[n];
        var incarnation = new string[n];
        var renewed = new DateTime[n];
        var until = new DateTime[n];
        for (var i = 0; i < n; i++)
        {
            node[i] = latest[i].Node;
            incarnation[i] = latest[i].Incarnation;
            renewed[i] = latest[i].RenewedAt.UtcDateTime;
            until[i] = latest[i].LeaseUntil.UtcDateTime;
        }

        batch.BatchCommands.Add(Command(tables == TableSet.Live ? _liveLeases : _shadowLeases,
            P(node, NpgsqlDbType.Array | NpgsqlDbType.Integer), P(incarnation, Texts), P(renewed, Times), P(until, Times)));
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
        insert into presence{s} as p (user_id, device_id, node, online, session_id, last_seen, lease_until, incarnation)
        select * from unnest($1::text[], $2::text[], $3::integer[], $4::boolean[], $5::text[], $6::timestamptz[], $7::timestamptz[], $8::text[])
        on conflict (user_id, device_id) do update set
            node = excluded.node, online = excluded.online,
            session_id = excluded.session_id, last_seen = excluded.last_seen, lease_until = excluded.lease_until,
            incarnation = excluded.incarnation
        where p.last_seen <= excluded.last_seen
        """;

    // A node's renewals only move forward; a replay of an older one changes nothing.
    private static string LeaseUpsertSql(string s) => $"""
        insert into edge_node_leases{s} as l (node, incarnation, renewed_at, lease_until)
        select * from unnest($1::integer[], $2::text[], $3::timestamptz[], $4::timestamptz[])
        on conflict (node) do update set
            incarnation = excluded.incarnation, renewed_at = excluded.renewed_at, lease_until = excluded.lease_until
        where l.renewed_at <= excluded.renewed_at
        """;
}
