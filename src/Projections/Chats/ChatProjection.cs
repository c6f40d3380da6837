using System.Buffers;
using System.Buffers.Binary;
using Messaging.Contracts.Events;
using Messaging.Contracts.Serialization;
using Messaging.Contracts.Topics;
using Messaging.Projections.Runtime;
using Messaging.ReadModels.Chats;
using Npgsql;
using NpgsqlTypes;
using static Messaging.ReadModels.Sql;

namespace Messaging.Projections.Chats;

/// <summary>
/// <c>chats</c>, <c>chat_members</c> and <c>messages</c> (history, membership changes included)
/// from <c>chat.events</c>. Membership statements are guarded by seq, so re-applying an older
/// event (a duplicate in the log, a retried dead letter) never undoes a newer one.
/// </summary>
internal sealed class ChatProjection : IProjection
{
    private static readonly ShadowTable[] OwnedTables =
    [
        new("chats", Bulk: false, Key: null),
        new("chat_members", Bulk: false, Key: null),
        new("messages", Bulk: true, Key: "chat_id, seq"),
        new(ReadMarkerRows.Table, Bulk: false, Key: null),
    ];

    /// <summary>
    /// The bump of every bulk page at once: each chat's last seq and its time are those of its
    /// highest history row (every chat event but a read marker writes one, exactly the events the
    /// live path bumps with), found by one probe of the primary key per chat. Bumping per page cost
    /// the writer an update of every chat the page touched (2–5 ms per 5,000-event page over
    /// 1,000 chats, measured with psql) on the rebuild's one writing connection.
    /// </summary>
    private const string BumpFromHistorySql = """
        update chats__rebuild c set last_seq = l.seq, last_event_at = l.sent_at
        from chats__rebuild k cross join lateral (
            select m.seq, m.sent_at from messages__rebuild m where m.chat_id = k.chat_id order by m.seq desc limit 1) l
        where c.chat_id = k.chat_id and c.last_seq < l.seq
        """;

    private const string CopyMessagesSql =
        "copy messages__rebuild (chat_id, seq, kind, message_id, client_msg_id, sender_user_id, sender_device_id, body, attachments, user_ids, title, sent_at, reply_to, payloads, target_seq, emoji, " + ShadowTable.LogOffsetColumn + ") from stdin (format binary)";

    /// <summary>The log offset appended to each COPY row: its length (int4) and value (int8).</summary>
    private const int LogOffsetFieldSize = sizeof(int) + sizeof(long);

    /// <summary>
    /// A rebuild copies every event's row as it is and folds edits, reactions and deletes into the
    /// messages they change here, once, set-based, after the indexes are built: the content rows
    /// are found through the partial index on <c>target_seq</c> (only they have one), so a log
    /// without edits costs three empty index scans instead of three scans of the whole copy
    /// (≈ 0.6 s at 1M rows, docs/operations.md, "Measured") (an update per event against the unindexed
    /// copy would scan it per event). The result is what the live statements
    /// (<see cref="Statements.Edit"/>, <see cref="Statements.React"/>, <see cref="Statements.Delete"/>)
    /// leave, applied in log order: the latest edit, each user's latest reaction, and the tombstone
    /// scrubbing the message and its edit rows. Among duplicates of one seq (an at-least-once log)
    /// the first copy wins, as on the live path where the later copy's guard fails.
    /// </summary>
    private static readonly string[] FoldContentSql =
    [
        $"""
        update messages__rebuild t set body = e.body, payloads = e.payloads, edited_at = e.sent_at, edit_seq = e.seq
        from (select distinct on (chat_id, target_seq) chat_id, target_seq, seq, body, payloads, sent_at
              from messages__rebuild where kind = '{ChangeKinds.MessageEdited}' and target_seq is not null order by chat_id, target_seq, seq desc, ctid) e
        where t.chat_id = e.chat_id and t.seq = e.target_seq and t.kind = '{ChangeKinds.Message}'
        """,
        $"""
        update messages__rebuild t set reactions = r.reactions, reactions_seq = r.last_seq
        from (select chat_id, target_seq, max(seq) as last_seq,
                     jsonb_object_agg(sender_user_id, emoji) filter (where emoji is not null) as reactions
              from (select distinct on (chat_id, target_seq, sender_user_id) chat_id, target_seq, sender_user_id, emoji, seq
                    from messages__rebuild where kind = '{ChangeKinds.Reaction}' and target_seq is not null order by chat_id, target_seq, sender_user_id, seq desc, ctid) latest
              group by chat_id, target_seq) r
        where t.chat_id = r.chat_id and t.seq = r.target_seq and t.kind = '{ChangeKinds.Message}'
        """,
        $"""
        update messages__rebuild t set body = null, payloads = null, attachments = null, reactions = null,
            deleted_at = case when t.kind = '{ChangeKinds.Message}' then d.sent_at else t.deleted_at end
        from (select distinct on (chat_id, target_seq) chat_id, target_seq, sent_at
              from messages__rebuild where kind = '{ChangeKinds.MessageDeleted}' and target_seq is not null order by chat_id, target_seq, seq, ctid) d
        where t.chat_id = d.chat_id
          and ((t.seq = d.target_seq and t.kind = '{ChangeKinds.Message}') or (t.target_seq = d.target_seq and t.kind = '{ChangeKinds.MessageEdited}'))
        """,
    ];

    private readonly Statements _live = new("");
    private readonly Statements _shadow = new(ShadowTable.Suffix);
    private readonly string _liveMarkers = ReadMarkerRows.Upsert("");
    private readonly string _shadowMarkers = ReadMarkerRows.Upsert(ShadowTable.Suffix);

    public string Name => "chat";

    public IReadOnlyList<ShadowTable> Tables => OwnedTables;

    public IReadOnlyList<string>? DeleteChatSql { get; } =
    [
        "delete from messages where chat_id = @chat",
        "delete from read_markers where chat_id = @chat",
        "delete from chat_members where chat_id = @chat",
        "delete from chats where chat_id = @chat",
    ];

    public IReadOnlyList<string> Topics(TopicNames names) => [names.ChatEvents];

    public Decision Decode(in SourceRecord record, TopicNames names) =>
        record.Value is null ? Decision.Skip(null) : Decision.From(Codecs.Events.Decode(record.Value));

    /// <summary>A <c>MessageSent</c> straight into its COPY row (<see cref="MessageCopyReader"/>); anything else as <see cref="Decode"/>.</summary>
    public Decision DecodeBulk(in SourceRecord record, TopicNames names) =>
        record.Value is not null && MessageCopyReader.TryRead(record.Value, Codecs.Events.MaxVersion, out var row)
            ? new Decision(Disposition.Apply, row, "MessageSent", null)
            : Decode(record, names);

    public void AppendApply(IReadOnlyList<ApplyRecord> records, NpgsqlBatch batch, TableSet tables)
    {
        var sql = tables == TableSet.Live ? _live : _shadow;
        AppendReadMarkers(records, batch, tables == TableSet.Live ? _liveMarkers : _shadowMarkers);
        var events = Events(records);
        if (events.Count == 0)
        {
            return;
        }

        var messages = new List<MessageRow>(events.Count);
        List<ChatEvent>? content = null;
        for (var i = 0; i < events.Count; i++)
        {
            if (ChatRows.ChangesMessage(events[i]))
            {
                // After the page's messages are inserted: an edit may change a message of the same page.
                (content ??= []).Add(events[i]);
                continue;
            }

            var row = ChatRows.Message(events[i]);
            if (events[i] is MessageSent)
            {
                messages.Add(row);
            }
            else
            {
                // Membership changes are rare and order-dependent: one statement each, in log order.
                batch.BatchCommands.Add(sql.InsertHistoryRow(row));
                AppendMembership(events[i], batch, sql);
            }
        }

        if (messages.Count > 0)
        {
            batch.BatchCommands.Add(sql.InsertMessages(messages));
        }

        if (content is not null)
        {
            // Edits, deletes and reactions are rare next to messages and order-dependent: their own
            // row and the change to the message's row, one statement each, in log order.
            foreach (var e in content)
            {
                batch.BatchCommands.Add(sql.InsertContentRow(ChatRows.Message(e)));
                sql.AppendFold(e, batch);
            }
        }

        // Last, so that a ChatCreated earlier in the same page has made the row the bump updates.
        batch.BatchCommands.Add(sql.Bump(ChatRows.Bumps(events)));
    }

    public async Task BulkLoadAsync(IReadOnlyList<ApplyRecord> records, NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        var markers = ReadMarkerRows.Plan(records);
        if (markers.Count > 0)
        {
            await using var markerBatch = new NpgsqlBatch(connection, transaction);
            markerBatch.BatchCommands.Add(ReadMarkerRows.ApplyCommand(_shadowMarkers, markers));
            await markerBatch.ExecuteNonQueryAsync(cancellationToken);
        }

        var rowsToCopy = WithoutReadMarkers(records);
        if (rowsToCopy.Count == 0)
        {
            return;
        }

        // The page's rows (most already encoded by DecodeBulk on a decode thread) in one buffer,
        // then one raw binary COPY: the writer copies bytes instead of converting sixteen values per
        // row through NpgsqlBinaryImporter (its per-value writes were the writer's top frames).
        // Each row gets one more field, its log offset, for the finalize step's dedupe.
        var rows = new byte[rowsToCopy.Count][];
        var size = CopyRowWriter.Header.Length + CopyRowWriter.Trailer.Length;
        for (var i = 0; i < rowsToCopy.Count; i++)
        {
            rows[i] = rowsToCopy[i].Value is MessageCopyRow copy ? copy.Row : MessageRowCopy.Encode(ChatRows.Message((ChatEvent)rowsToCopy[i].Value));

            size += rows[i].Length + LogOffsetFieldSize;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            var position = Append(buffer, 0, CopyRowWriter.Header);
            for (var i = 0; i < rows.Length; i++)
            {
                position = AppendWithLogOffset(buffer, position, rows[i], rowsToCopy[i].Source.Offset);
            }

            position = Append(buffer, position, CopyRowWriter.Trailer);
            await using var copy = await connection.BeginRawBinaryCopyAsync(CopyMessagesSql, cancellationToken);
            await copy.WriteAsync(buffer.AsMemory(0, position), cancellationToken);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        // chats and chat_members are small and order-dependent: the live statements on keyed shadow
        // tables. chats.last_seq is bumped once, in the finalize step (BumpFromHistorySql).
        await using var batch = new NpgsqlBatch(connection, transaction);
        for (var i = 0; i < rowsToCopy.Count; i++)
        {
            if (rowsToCopy[i].Value is ChatEvent e and not MessageSent)
            {
                AppendMembership(e, batch, _shadow);
            }
        }

        if (batch.BatchCommands.Count > 0)
        {
            await batch.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    /// <summary>
    /// After the indexes: the chats' last event (the bump the live path makes per page), the content
    /// fold, then retention through the <c>sent_at</c> index. The bump comes first, so a chat whose
    /// history retention removes still keeps its last seq, as on the live path.
    /// </summary>
    public IReadOnlyList<string> FinalizeSql(RetentionCutoffs cutoffs) =>
        [BumpFromHistorySql, .. FoldContentSql, $"delete from messages__rebuild where sent_at < '{cutoffs.History:O}'::timestamptz"];

    private static List<ApplyRecord> WithoutReadMarkers(IReadOnlyList<ApplyRecord> records)
    {
        var kept = new List<ApplyRecord>(records.Count);
        for (var i = 0; i < records.Count; i++)
        {
            // Read markers are no history rows and move no chat forward (read_markers instead).
            if (records[i].Value is not MessagesRead)
            {
                kept.Add(records[i]);
            }
        }

        return kept;
    }

    private static List<ChatEvent> Events(IReadOnlyList<ApplyRecord> records)
    {
        var events = new List<ChatEvent>(records.Count);
        for (var i = 0; i < records.Count; i++)
        {
            // Read markers are no history rows and move no chat forward (read_markers instead).
            if (records[i].Value is not MessagesRead)
            {
                events.Add((ChatEvent)records[i].Value);
            }
        }

        return events;
    }

    private static void AppendReadMarkers(IReadOnlyList<ApplyRecord> records, NpgsqlBatch batch, string sql)
    {
        var markers = ReadMarkerRows.Plan(records);
        if (markers.Count > 0)
        {
            batch.BatchCommands.Add(ReadMarkerRows.ApplyCommand(sql, markers));
        }
    }

    private static void AppendMembership(ChatEvent e, NpgsqlBatch batch, Statements sql)
    {
        switch (e)
        {
            case ChatCreated c:
                var users = new string[c.Members.Count];
                var roles = new string[c.Members.Count];
                for (var i = 0; i < users.Length; i++)
                {
                    users[i] = c.Members[i].UserId;
                    roles[i] = ChatRows.Role(c.Members[i].Role);
                }

                batch.BatchCommands.Add(Command(sql.CreateChat,
                    P(c.ChatId, NpgsqlDbType.Text), P(ChatRows.Kind(c.Kind), NpgsqlDbType.Text), P(c.Title, NpgsqlDbType.Text),
                    P(c.OccurredAt.UtcDateTime, NpgsqlDbType.TimestampTz), P(c.Seq, NpgsqlDbType.Bigint)));
                batch.BatchCommands.Add(Command(sql.AddCreators,
                    P(c.ChatId, NpgsqlDbType.Text), P(users, NpgsqlDbType.Array | NpgsqlDbType.Text),
                    P(roles, NpgsqlDbType.Array | NpgsqlDbType.Text), P(c.Seq, NpgsqlDbType.Bigint)));
                break;
            case MembersAdded a:
                batch.BatchCommands.Add(Command(sql.AddMembers,
                    P(a.ChatId, NpgsqlDbType.Text), P(a.UserIds.ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text), P(a.Seq, NpgsqlDbType.Bigint)));
                break;
            case MemberRemoved r:
                batch.BatchCommands.Add(Command(sql.RemoveMember, P(r.ChatId, NpgsqlDbType.Text), P(r.UserId, NpgsqlDbType.Text), P(r.Seq, NpgsqlDbType.Bigint)));
                break;
            case MemberLeft l:
                batch.BatchCommands.Add(Command(sql.RemoveMember, P(l.ChatId, NpgsqlDbType.Text), P(l.UserId, NpgsqlDbType.Text), P(l.Seq, NpgsqlDbType.Bigint)));
                if (l.PromotedAdmin is not null)
                {
                    batch.BatchCommands.Add(Command(sql.GrantAdmin, P(l.ChatId, NpgsqlDbType.Text), P(l.PromotedAdmin, NpgsqlDbType.Text), P(l.Seq, NpgsqlDbType.Bigint)));
                }

                break;
            case AdminGranted g:
                batch.BatchCommands.Add(Command(sql.GrantAdmin, P(g.ChatId, NpgsqlDbType.Text), P(g.UserId, NpgsqlDbType.Text), P(g.Seq, NpgsqlDbType.Bigint)));
                break;
        }
    }

    private static int Append(byte[] buffer, int position, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(buffer.AsSpan(position));
        return position + bytes.Length;
    }

    /// <summary>A binary COPY row (field count first) with one more field at its end: <paramref name="offset"/> as int8.</summary>
    internal static int AppendWithLogOffset(byte[] buffer, int position, ReadOnlySpan<byte> row, long offset)
    {
        var span = buffer.AsSpan(position);
        BinaryPrimitives.WriteInt16BigEndian(span, (short)(BinaryPrimitives.ReadInt16BigEndian(row) + 1));
        row[sizeof(short)..].CopyTo(span[sizeof(short)..]);
        var end = span[row.Length..];
        BinaryPrimitives.WriteInt32BigEndian(end, sizeof(long));
        BinaryPrimitives.WriteInt64BigEndian(end[sizeof(int)..], offset);
        return position + row.Length + LogOffsetFieldSize;
    }

    private sealed class Statements(string s)
    {
        public string CreateChat { get; } = $"""
            insert into chats{s} (chat_id, kind, title, created_at, last_seq, last_event_at)
            values ($1, $2, $3, $4, $5, $4) on conflict (chat_id) do nothing
            """;

        public string AddCreators { get; } = $"""
            insert into chat_members{s} (chat_id, user_id, role, joined_seq)
            select $1, m.user_id, m.role, $4 from unnest($2::text[], $3::text[]) as m(user_id, role)
            on conflict (chat_id, user_id) do nothing
            """;

        /// <summary>A user who left (at a lower seq) rejoins; a current member or a newer departure is left alone.</summary>
        public string AddMembers { get; } = $"""
            insert into chat_members{s} as m (chat_id, user_id, role, joined_seq)
            select $1, u, 'member', $3 from unnest($2::text[]) as u
            on conflict (chat_id, user_id) do update set role = 'member', joined_seq = excluded.joined_seq, left_seq = null
            where m.left_seq is not null and m.left_seq < excluded.joined_seq
            """;

        public string RemoveMember { get; } = $"""
            update chat_members{s} set left_seq = $3
            where chat_id = $1 and user_id = $2 and left_seq is null and joined_seq < $3
            """;

        public string GrantAdmin { get; } = $"""
            update chat_members{s} set role = 'admin'
            where chat_id = $1 and user_id = $2 and left_seq is null and joined_seq < $3
            """;

        private readonly string _insertHistory = $"""
            insert into messages{s} (chat_id, seq, kind, sender_user_id, sender_device_id, user_ids, title, sent_at)
            values ($1, $2, $3, $4, $5, $6, $7, $8) on conflict (chat_id, seq) do nothing
            """;

        private readonly string _insertMessages = $"""
            insert into messages{s} (chat_id, seq, kind, message_id, client_msg_id, sender_user_id, sender_device_id, body, attachments, sent_at, reply_to, payloads)
            select chat_id, seq, 'message', message_id, client_msg_id, sender_user_id, sender_device_id, body, attachments::jsonb, sent_at, reply_to, payloads::jsonb
            from unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::timestamptz[], $10::text[], $11::text[])
                as r(chat_id, seq, message_id, client_msg_id, sender_user_id, sender_device_id, body, attachments, sent_at, reply_to, payloads)
            on conflict (chat_id, seq) do nothing
            """;

        private readonly string _insertContent = $"""
            insert into messages{s} (chat_id, seq, kind, message_id, sender_user_id, sender_device_id, body, payloads, target_seq, emoji, sent_at)
            values ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $11) on conflict (chat_id, seq) do nothing
            """;

        /// <summary>The latest text: a newer edit only, never on a tombstone.</summary>
        public string Edit { get; } = $"""
            update messages{s} set body = $3, payloads = $4::jsonb, edited_at = $5, edit_seq = $6
            where chat_id = $1 and seq = $2 and kind = '{ChangeKinds.Message}' and deleted_at is null and (edit_seq is null or edit_seq < $6)
            """;

        /// <summary>One reaction per user: set (or with a null emoji removed) by a newer reaction only; no reactions left is null.</summary>
        public string React { get; } = $"""
            update messages{s} set reactions_seq = $5, reactions = nullif(
                case when $4::text is null then coalesce(reactions, jsonb_build_object()) - $3::text
                     else coalesce(reactions, jsonb_build_object()) || jsonb_build_object($3::text, $4::text) end, jsonb_build_object())
            where chat_id = $1 and seq = $2 and kind = '{ChangeKinds.Message}' and deleted_at is null and (reactions_seq is null or reactions_seq < $5)
            """;

        /// <summary>The tombstone: the message keeps its place, sender and time, and loses its content; the first delete's time wins.</summary>
        public string Delete { get; } = $"""
            update messages{s} set body = null, payloads = null, attachments = null, reactions = null, deleted_at = $3
            where chat_id = $1 and seq = $2 and kind = '{ChangeKinds.Message}' and deleted_at is null
            """;

        /// <summary>The text of the deleted message's edits goes too (the partial index on target_seq finds them).</summary>
        public string ScrubEdits { get; } = $"""
            update messages{s} set body = null, payloads = null
            where chat_id = $1 and target_seq = $2 and kind = '{ChangeKinds.MessageEdited}' and (body is not null or payloads is not null)
            """;

        public NpgsqlBatchCommand InsertContentRow(MessageRow r) => Command(_insertContent,
            P(r.ChatId, NpgsqlDbType.Text), P(r.Seq, NpgsqlDbType.Bigint), P(r.Kind, NpgsqlDbType.Text), P(r.MessageId, NpgsqlDbType.Text),
            P(r.SenderUserId, NpgsqlDbType.Text), P(r.SenderDeviceId, NpgsqlDbType.Text), P(r.Body, NpgsqlDbType.Text), P(r.PayloadsJson, NpgsqlDbType.Text),
            P(r.TargetSeq, NpgsqlDbType.Bigint), P(r.Emoji, NpgsqlDbType.Text), P(r.SentAt, NpgsqlDbType.TimestampTz));

        /// <summary>The change an edit, reaction or delete makes to the message's own row.</summary>
        public void AppendFold(ChatEvent e, NpgsqlBatch batch)
        {
            switch (e)
            {
                case MessageEdited ed:
                    batch.BatchCommands.Add(Command(Edit,
                        P(ed.ChatId, NpgsqlDbType.Text), P(ed.MessageSeq, NpgsqlDbType.Bigint), P(ed.Body, NpgsqlDbType.Text),
                        P(ed.Payloads is { } p ? ChatRows.PayloadsJson(p) : null, NpgsqlDbType.Text),
                        P(ed.OccurredAt.UtcDateTime, NpgsqlDbType.TimestampTz), P(ed.Seq, NpgsqlDbType.Bigint)));
                    break;
                case ReactionChanged r:
                    batch.BatchCommands.Add(Command(React,
                        P(r.ChatId, NpgsqlDbType.Text), P(r.MessageSeq, NpgsqlDbType.Bigint), P(r.Actor.UserId, NpgsqlDbType.Text),
                        P(r.Emoji, NpgsqlDbType.Text), P(r.Seq, NpgsqlDbType.Bigint)));
                    break;
                case MessageDeleted d:
                    batch.BatchCommands.Add(Command(Delete,
                        P(d.ChatId, NpgsqlDbType.Text), P(d.MessageSeq, NpgsqlDbType.Bigint), P(d.OccurredAt.UtcDateTime, NpgsqlDbType.TimestampTz)));
                    batch.BatchCommands.Add(Command(ScrubEdits, P(d.ChatId, NpgsqlDbType.Text), P(d.MessageSeq, NpgsqlDbType.Bigint)));
                    break;
            }
        }

        private readonly string _bump = $"""
            update chats{s} c set last_seq = b.seq, last_event_at = b.at
            from unnest($1::text[], $2::bigint[], $3::timestamptz[]) as b(chat_id, seq, at)
            where c.chat_id = b.chat_id and c.last_seq < b.seq
            """;

        public NpgsqlBatchCommand InsertHistoryRow(MessageRow r) => Command(_insertHistory,
            P(r.ChatId, NpgsqlDbType.Text), P(r.Seq, NpgsqlDbType.Bigint), P(r.Kind, NpgsqlDbType.Text),
            P(r.SenderUserId, NpgsqlDbType.Text), P(r.SenderDeviceId, NpgsqlDbType.Text),
            P(r.UserIds, NpgsqlDbType.Array | NpgsqlDbType.Text), P(r.Title, NpgsqlDbType.Text), P(r.SentAt, NpgsqlDbType.TimestampTz));

        public NpgsqlBatchCommand InsertMessages(List<MessageRow> rows)
        {
            var n = rows.Count;
            var chat = new string[n];
            var seq = new long[n];
            var messageId = new string?[n];
            var clientMsgId = new string?[n];
            var senderUser = new string[n];
            var senderDevice = new string[n];
            var body = new string?[n];
            var attachments = new string?[n];
            var sentAt = new DateTime[n];
            var replyTo = new string?[n];
            var payloads = new string?[n];
            for (var i = 0; i < n; i++)
            {
                var r = rows[i];
                chat[i] = r.ChatId;
                seq[i] = r.Seq;
                messageId[i] = r.MessageId;
                clientMsgId[i] = r.ClientMsgId;
                senderUser[i] = r.SenderUserId;
                senderDevice[i] = r.SenderDeviceId;
                body[i] = r.Body;
                attachments[i] = r.AttachmentsJson;
                sentAt[i] = r.SentAt;
                replyTo[i] = r.ReplyTo;
                payloads[i] = r.PayloadsJson;
            }

            const NpgsqlDbType text = NpgsqlDbType.Array | NpgsqlDbType.Text;
            return Command(_insertMessages,
                P(chat, text), P(seq, NpgsqlDbType.Array | NpgsqlDbType.Bigint), P(messageId, text), P(clientMsgId, text),
                P(senderUser, text), P(senderDevice, text), P(body, text), P(attachments, text),
                P(sentAt, NpgsqlDbType.Array | NpgsqlDbType.TimestampTz), P(replyTo, text), P(payloads, text));
        }

        public NpgsqlBatchCommand Bump(List<(string ChatId, long Seq, DateTime At)> bumps)
        {
            var chat = new string[bumps.Count];
            var seq = new long[bumps.Count];
            var at = new DateTime[bumps.Count];
            for (var i = 0; i < bumps.Count; i++)
            {
                (chat[i], seq[i], at[i]) = bumps[i];
            }

            return Command(_bump, P(chat, NpgsqlDbType.Array | NpgsqlDbType.Text), P(seq, NpgsqlDbType.Array | NpgsqlDbType.Bigint), P(at, NpgsqlDbType.Array | NpgsqlDbType.TimestampTz));
        }
    }
}
