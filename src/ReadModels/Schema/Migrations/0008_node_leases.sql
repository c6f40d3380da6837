-- Read models v8: the presence projection tells liveness again. Runs with search_path = the
-- configured schema, like 0001.
--
-- Since Edge nodes renew one lease of their own (`EdgeNodeLeased`) instead of every session, a
-- session record is written only on connect and disconnect, and its own `lease_until` runs out
-- while the device is still connected. So the table keeps each node's latest lease, each session
-- row the `incarnation` (node run) that announced it, and `presence_at(as_of)` reads them by the same
-- rule as the Router and Edge (SessionRules, docs/read-models.md). The presence checkpoints are
-- deleted so the projection replays the (compacted, small) `device.sessions` topic and fills both.

alter table presence add column incarnation text;

create table edge_node_leases (
    node        integer     not null,
    incarnation text        not null,
    renewed_at  timestamptz not null,
    lease_until timestamptz not null,
    constraint edge_node_leases_pkey primary key (node)
);

-- A string body, not bound to the tables' oids: a rebuild replaces both tables (drop, rename).
-- The search path is the schema's, whatever the caller's.
create function presence_at(as_of timestamptz)
returns table (user_id text, device_id text, node integer, online boolean, last_seen timestamptz)
language sql stable
set search_path from current
as $$
    select p.user_id, p.device_id,
           case when s.live then p.node end,
           s.live,
           case when l.renewed_at > p.last_seen then l.renewed_at else p.last_seen end
    from presence p
    left join edge_node_leases l on p.online and l.node = p.node and l.incarnation = p.incarnation
    cross join lateral (
        select p.online and case when l.node is not null then l.lease_until > as_of
                                 else p.lease_until is null or p.lease_until > as_of end as live
    ) s
$$;

delete from checkpoints where projection in ('presence', 'rebuild:presence');
