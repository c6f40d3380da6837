-- Read models v4: the cursor inbox (issue 10). Runs with search_path = the configured schema, like 0001.
--
-- `inbox` held one row per recipient device per chat event: 2,048 rows per message in a group of
-- 1,024 members with 2 devices each. A device's pending events now follow from the chat's history
-- (`messages`), the user's membership (`chat_members`) and one cursor per (user, device, chat):
-- the highest seq the device acknowledged (docs/read-models.md). Nothing is written per recipient.
--
-- The cursors are the old ack watermarks under their new name, kept. The inbox projection now
-- reads only device.acks: its checkpoints (live and rebuild) are deleted, so it replays device.acks
-- from the beginning, which only ever raises a cursor to where it already is.

drop table if exists inbox__rebuild;
drop table if exists ack_watermarks__rebuild;
drop table inbox;

alter table ack_watermarks rename to device_cursors;
alter table device_cursors rename constraint ack_watermarks_pkey to device_cursors_pkey;

delete from checkpoints where projection in ('inbox', 'rebuild:inbox');
