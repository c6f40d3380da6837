-- Read models v2: a device is (user_id, device_id), never the device id alone (issue 8: two users
-- who both called their device "phone" shared one inbox, one ack watermark and one presence row).
-- Runs with search_path = the configured schema, like 0001.
--
-- The three device-keyed tables are recreated empty with the new keys and their projections'
-- checkpoints (live and rebuild) are deleted, so the inbox and presence projections replay their
-- topics from the beginning: a read model is a pure function of the log. v1 events carry bare
-- device ids that cannot be attributed to a user; the inbox projection skips them (docs/events.md,
-- "Versions"), so on a stack with v1 history re-provision it clean instead (stack.sh purge).

drop table if exists inbox__rebuild;
drop table if exists ack_watermarks__rebuild;
drop table if exists presence__rebuild;
drop table inbox;
drop table ack_watermarks;
drop table presence;

create table inbox (
    user_id    text        not null,
    device_id  text        not null,
    chat_id    text        not null,
    seq        bigint      not null,
    created_at timestamptz not null,
    constraint inbox_pkey primary key (user_id, device_id, chat_id, seq)
);
-- Retention deletes undelivered rows by age.
create index inbox_created_at_idx on inbox (created_at);

create table ack_watermarks (
    user_id   text   not null,
    device_id text   not null,
    chat_id   text   not null,
    acked_seq bigint not null,
    constraint ack_watermarks_pkey primary key (user_id, device_id, chat_id)
);

-- The primary key's user_id prefix answers "which devices of this user are online": no second index.
create table presence (
    user_id     text        not null,
    device_id   text        not null,
    node        integer,
    online      boolean     not null,
    session_id  text        not null,
    last_seen   timestamptz not null,
    lease_until timestamptz,
    constraint presence_pkey primary key (user_id, device_id)
);

delete from checkpoints where projection in ('inbox', 'presence', 'rebuild:inbox', 'rebuild:presence');
