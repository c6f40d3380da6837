-- Read models v5: edits, deletes for everyone, reactions, replies and per-device payloads (issue 11).
-- Runs with search_path = the configured schema, like 0001.
--
-- Still one `messages` row per chat event. A message row holds the message as it is now: the
-- latest text (`body`, `payloads`, `edited_at`), its members' reactions (`reactions`: a jsonb
-- object user id -> emoji) or, once deleted for everyone, a tombstone (`deleted_at`; body,
-- payloads, attachments and reactions null). The edit, delete and reaction events have rows of
-- their own (kinds 'message.edited', 'message.deleted', 'reaction'), so sync streams them in seq
-- order; `target_seq` is the seq of the message they change, `emoji` a reaction's. An edit row
-- keeps its text only until the message is deleted.
--
-- `payloads` (an encrypted message or edit): one jsonb object address -> base64 ciphertext on the
-- row, not a row per device: a plain message writes nothing per device, and each reader's query
-- extracts its own entry (`payloads ->> 'user/device'`), so no device receives another's.
-- `edit_seq` and `reactions_seq` are the seqs of the last edit / reaction applied: an older event
-- applied again (a duplicate in the log, a retried dead letter) never undoes a newer one.

alter table messages
    add column reply_to text,
    add column payloads jsonb,
    add column target_seq bigint,
    add column emoji text,
    add column edited_at timestamptz,
    add column edit_seq bigint,
    add column deleted_at timestamptz,
    add column reactions jsonb,
    add column reactions_seq bigint;

-- A delete scrubs the text of the message's edit rows: found by (chat, target seq), not by a scan of the chat.
create index messages_target_idx on messages (chat_id, target_seq) where target_seq is not null;
