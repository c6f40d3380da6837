-- Read models v5: read markers (issue 11). Runs with search_path = the configured schema, like 0001.
--
-- One row per (chat, user): the highest seq the user marked read (`read` frames of any of their
-- devices, the MessagesRead events of chat.events). Written by the chat projection, so its
-- checkpoints need no reset: no MessagesRead existed before this table.
-- Delivered is not stored: it is the maximum of the user's device cursors (device_cursors).

create table read_markers (
    chat_id text not null,
    user_id text not null,
    read_seq bigint not null,
    read_at timestamptz not null,
    primary key (chat_id, user_id)
);
