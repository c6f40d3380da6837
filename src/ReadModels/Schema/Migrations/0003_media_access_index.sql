-- Edge answers "may this user download attachment key K" (docs/security.md) by finding the
-- messages whose attachments contain K. Without an index that scans the history of every chat
-- of the user on each download; jsonb_path_ops indexes exactly the @> containment it asks.
-- Partial: most messages have no attachments and cost nothing here.
create index messages_attachments_idx on messages using gin (attachments jsonb_path_ops) where attachments is not null;
