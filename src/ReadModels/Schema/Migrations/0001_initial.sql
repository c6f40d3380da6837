-- Read models v1: the contract between Projections (writer) and Edge (reader), see docs/read-models.md.
-- Runs with search_path = the configured schema, so no table is schema-qualified here.
-- No foreign keys: rebuilds swap tables one projection at a time, and a read model is a pure
-- function of the log, so referential integrity is the log's, not the database's.

create table chats (
    chat_id       text        not null,
    kind          text        not null,
    title         text,
    created_at    timestamptz not null,
    last_seq      bigint      not null,
    last_event_at timestamptz not null,
    constraint chats_pkey primary key (chat_id)
);

create table chat_members (
    chat_id    text   not null,
    user_id    text   not null,
    role       text   not null,
    joined_seq bigint not null,
    left_seq   bigint,
    constraint chat_members_pkey primary key (chat_id, user_id)
);
-- Edge lists a user's chats.
create index chat_members_user_idx on chat_members (user_id, chat_id);

create table messages (
    chat_id          text        not null,
    seq              bigint      not null,
    kind             text        not null,
    message_id       text,
    client_msg_id    text,
    sender_user_id   text        not null,
    sender_device_id text        not null,
    body             text,
    attachments      jsonb,
    user_ids         text[],
    title            text,
    sent_at          timestamptz not null,
    constraint messages_pkey primary key (chat_id, seq)
);
-- Retention deletes history by age.
create index messages_sent_at_idx on messages (sent_at);

create table inbox (
    device_id  text        not null,
    chat_id    text        not null,
    seq        bigint      not null,
    created_at timestamptz not null,
    constraint inbox_pkey primary key (device_id, chat_id, seq)
);
-- Retention deletes undelivered rows by age.
create index inbox_created_at_idx on inbox (created_at);

create table ack_watermarks (
    device_id text   not null,
    chat_id   text   not null,
    acked_seq bigint not null,
    constraint ack_watermarks_pkey primary key (device_id, chat_id)
);

create table presence (
    device_id   text        not null,
    user_id     text        not null,
    node        integer,
    online      boolean     not null,
    session_id  text        not null,
    last_seen   timestamptz not null,
    lease_until timestamptz,
    constraint presence_pkey primary key (device_id)
);
-- Edge asks "which devices of this user are online".
create index presence_user_idx on presence (user_id);

create table checkpoints (
    projection  text        not null,
    topic       text        not null,
    "partition" integer     not null,
    next_offset bigint      not null,
    updated_at  timestamptz not null default now(),
    constraint checkpoints_pkey primary key (projection, topic, "partition")
);

create table dead_letters (
    id          bigint generated always as identity,
    projection  text        not null,
    topic       text        not null,
    "partition" integer     not null,
    "offset"    bigint      not null,
    type        text,
    error       text        not null,
    payload     bytea,
    created_at  timestamptz not null default now(),
    retried_at  timestamptz,
    constraint dead_letters_pkey primary key (id),
    -- A page retried after a crash or a rebuild parks the same record again: keep one row.
    constraint dead_letters_source_key unique (projection, topic, "partition", "offset")
);
