using JasperFx;
using JasperFx.Events;
using JasperFx.Events.Projections;
using Marten;
using Messaging.Contracts.Events;

namespace Messaging.Bench.Marten;

/// <summary>
/// The Kafka position of the Marten ingest for one partition of <c>chat.events</c>: stored in
/// the same session as the events it covers, so a crash never double-applies or skips.
/// </summary>
public sealed class KafkaPosition
{
    /// <summary><c>topic/partition</c>.</summary>
    public string Id { get; set; } = string.Empty;

    public long NextOffset { get; set; }

    public static string IdOf(string topic, int partition) => topic + "/" + partition.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>The Marten document store of the chat model: string streams (chat id), events, projections.</summary>
public static class MartenChatStore
{
    public static DocumentStore Create(MartenChatSettings settings)
    {
        var options = new StoreOptions();
        options.Connection(settings.ConnectionString);
        options.DatabaseSchemaName = settings.Schema;
        options.AutoCreateSchemaObjects = AutoCreate.All;
        options.Events.StreamIdentity = StreamIdentity.AsString;
        options.Events.AppendMode = settings.AppendMode;
        options.Events.AddEventTypes([typeof(ChatCreated), typeof(MessageSent), typeof(MembersAdded), typeof(MemberRemoved), typeof(MemberLeft), typeof(AdminGranted)]);
        options.UseSystemTextJsonForSerialization();
        options.Schema.For<KafkaPosition>();
        options.Projections.UseIdentityMapForAggregates = settings.UseIdentityMapForAggregates;
        options.Projections.RebuildWithBulkCopy = settings.RebuildWithBulkCopy;
        if (settings.ChatLifecycle is { } lifecycle)
        {
            if (settings.Chat == ChatModel.Table)
            {
                var tables = new ChatTableProjection(settings.Schema);
                options.Storage.ExtendedSchemaObjects.AddRange(tables.SchemaObjects);
                options.Projections.Add(tables, lifecycle, ProjectionName(settings), asyncConfiguration: a => a.BatchSize = settings.DaemonBatchSize);
            }
            else
            {
                options.Projections.Add(new ChatStateProjection(), lifecycle, asyncConfiguration: a => a.BatchSize = settings.DaemonBatchSize);
            }
        }

        if (settings.History == HistoryStore.Table)
        {
            options.Projections.Add(new HistoryTableProjection(settings.Schema), ProjectionLifecycle.Inline, asyncConfiguration: a => a.BatchSize = settings.DaemonBatchSize);
        }

        return new DocumentStore(options);
    }

    /// <summary>The name the daemon knows the chat projection by (rebuilds address it by name).</summary>
    public static string ProjectionName(MartenChatSettings settings) =>
        settings.Chat == ChatModel.Table ? nameof(ChatTableProjection) : nameof(ChatState);

    /// <summary>The <c>kind</c> column of a history row (the Npgsql <c>messages.kind</c> values).</summary>
    public static string HistoryKind(ChatEvent e) => e switch
    {
        MessageSent => "message",
        ChatCreated => "created",
        MembersAdded => "members.added",
        MemberRemoved => "member.removed",
        MemberLeft => "member.left",
        AdminGranted => "admin.granted",
        _ => throw new ArgumentOutOfRangeException(nameof(e), e.GetType().Name, "no history kind"),
    };
}
