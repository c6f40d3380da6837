using JasperFx.Events;
using Marten;
using Messaging.Contracts.Commands;
using Messaging.Contracts.Events;
using Weasel.Postgresql;
using Weasel.Postgresql.Tables;

namespace Messaging.Bench.Marten;

/// <summary>
/// The chat model as flat tables (<see cref="ChatModel.Table"/>): <c>marten_chats</c> and
/// <c>marten_chat_members</c> in the shape of the Npgsql <c>chats</c>/<c>chat_members</c>, written
/// by set-based statements queued with <c>QueueSqlCommand</c> into Marten's batch: one last-seq
/// bump per page for all chats (not one document upsert per chat), one statement per membership
/// change. The tuning alternative to <see cref="ChatStateProjection"/>'s per-chat documents.
/// </summary>
public sealed class ChatTableProjection : global::Marten.Events.Projections.IProjection
{
    public const string Chats = "marten_chats";
    public const string Members = "marten_chat_members";

    private readonly string _createChat;
    private readonly string _addCreators;
    private readonly string _addMembers;
    private readonly string _removeMember;
    private readonly string _grantAdmin;
    private readonly string _bump;

    public ChatTableProjection(string schema)
    {
        var chats = new Table(new PostgresqlObjectName(schema, Chats, SchemaUtils.IdentifierUsage.General));
        chats.AddColumn<string>("chat_id").AsPrimaryKey();
        chats.AddColumn<string>("kind").NotNull();
        chats.AddColumn<string>("title");
        chats.AddColumn("created_at", "timestamptz").NotNull();
        chats.AddColumn<long>("last_seq").NotNull();
        chats.AddColumn("last_event_at", "timestamptz").NotNull();
        var members = new Table(new PostgresqlObjectName(schema, Members, SchemaUtils.IdentifierUsage.General));
        members.AddColumn<string>("chat_id").AsPrimaryKey();
        members.AddColumn<string>("user_id").AsPrimaryKey();
        members.AddColumn<string>("role").NotNull();
        members.AddColumn<long>("joined_seq").NotNull();
        members.AddColumn<long>("left_seq");
        SchemaObjects = [chats, members];

        _createChat = $"insert into {schema}.{Chats} (chat_id, kind, title, created_at, last_seq, last_event_at) values (?, ?, ?, ?, ?, ?) on conflict (chat_id) do nothing";
        _addCreators = $"insert into {schema}.{Members} (chat_id, user_id, role, joined_seq) select ?, m.user_id, m.role, ? from unnest(?::text[], ?::text[]) as m(user_id, role) on conflict (chat_id, user_id) do nothing";
        _addMembers = $"""
            insert into {schema}.{Members} as m (chat_id, user_id, role, joined_seq) select ?, u, 'member', ? from unnest(?::text[]) as u
            on conflict (chat_id, user_id) do update set role = 'member', joined_seq = excluded.joined_seq, left_seq = null
            where m.left_seq is not null and m.left_seq < excluded.joined_seq
            """;
        _removeMember = $"update {schema}.{Members} set left_seq = ? where chat_id = ? and user_id = ? and left_seq is null and joined_seq < ?";
        _grantAdmin = $"update {schema}.{Members} set role = 'admin' where chat_id = ? and user_id = ? and left_seq is null and joined_seq < ?";
        _bump = $"""
            update {schema}.{Chats} c set last_seq = b.seq, last_event_at = b.at
            from unnest(?::text[], ?::bigint[], ?::timestamptz[]) as b(chat_id, seq, at)
            where c.chat_id = b.chat_id and c.last_seq < b.seq
            """;
    }

    /// <summary>The tables Marten creates with the store's schema.</summary>
    public IReadOnlyList<Table> SchemaObjects { get; }

    public Task ApplyAsync(IDocumentOperations operations, IReadOnlyList<IEvent> events, CancellationToken cancellation)
    {
        var latest = new Dictionary<string, (long Seq, DateTimeOffset At)>(StringComparer.Ordinal);
        for (var i = 0; i < events.Count; i++)
        {
            if (events[i].Data is not ChatEvent e)
            {
                continue;
            }

            if (e is not MessageSent)
            {
                Membership(operations, e);
            }

            if (!latest.TryGetValue(e.ChatId, out var current) || e.Seq > current.Seq)
            {
                latest[e.ChatId] = (e.Seq, e.OccurredAt.ToUniversalTime());
            }
        }

        if (latest.Count > 0)
        {
            var chat = new string[latest.Count];
            var seq = new long[latest.Count];
            // DateTimeOffset, not DateTime: Marten types a DateTime[] parameter as timestamp without time zone.
            var at = new DateTimeOffset[latest.Count];
            var n = 0;
            foreach (var (id, (s, t)) in latest)
            {
                (chat[n], seq[n], at[n]) = (id, s, t);
                n++;
            }

            // Last, so that a ChatCreated earlier in the same batch has made the row the bump updates.
            operations.QueueSqlCommand(_bump, chat, seq, at);
        }

        return Task.CompletedTask;
    }

    private void Membership(IDocumentOperations operations, ChatEvent e)
    {
        switch (e)
        {
            case ChatCreated c:
                var users = new string[c.Members.Count];
                var roles = new string[c.Members.Count];
                for (var i = 0; i < users.Length; i++)
                {
                    users[i] = c.Members[i].UserId;
                    roles[i] = c.Members[i].Role == MemberRole.Admin ? "admin" : "member";
                }

                operations.QueueSqlCommand(_createChat, c.ChatId, c.Kind == ChatKind.Direct ? "direct" : "group", (object?)c.Title ?? DBNull.Value, c.OccurredAt.ToUniversalTime(), c.Seq, c.OccurredAt.ToUniversalTime());
                operations.QueueSqlCommand(_addCreators, c.ChatId, c.Seq, users, roles);
                break;
            case MembersAdded a:
                operations.QueueSqlCommand(_addMembers, a.ChatId, a.Seq, a.UserIds.ToArray());
                break;
            case MemberRemoved r:
                operations.QueueSqlCommand(_removeMember, r.Seq, r.ChatId, r.UserId, r.Seq);
                break;
            case MemberLeft l:
                operations.QueueSqlCommand(_removeMember, l.Seq, l.ChatId, l.UserId, l.Seq);
                if (l.PromotedAdmin is not null)
                {
                    operations.QueueSqlCommand(_grantAdmin, l.ChatId, l.PromotedAdmin, l.Seq);
                }

                break;
            case AdminGranted g:
                operations.QueueSqlCommand(_grantAdmin, g.ChatId, g.UserId, g.Seq);
                break;
        }
    }
}
