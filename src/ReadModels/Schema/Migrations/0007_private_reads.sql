-- Read models v7: reads made with read receipts off stay private (issue 11). Runs with
-- search_path = the configured schema, like 0001.
--
-- `shared_read_seq` is the highest seq a user marked read with read receipts on (a MessagesRead
-- without `private`): the counts others see in history come from it, so turning receipts on
-- again does not reveal reads made while they were off. `read_seq` stays the user's own read
-- position (their other devices, unread counts). Markers written before this migration were all
-- made without the flag, so they are shared: the column starts as read_seq.

alter table read_markers add column shared_read_seq bigint not null default 0;
update read_markers set shared_read_seq = read_seq;
