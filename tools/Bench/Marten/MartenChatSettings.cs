using JasperFx.Events;
using JasperFx.Events.Projections;

namespace Messaging.Bench.Marten;

/// <summary>Where history lives on Marten: the chat streams themselves, or a flat table fed by <c>QueueSqlCommand</c>.</summary>
public enum HistoryStore
{
    /// <summary><c>mt_events</c> is the history: one stream per chat, version = seq; no projection writes it.</summary>
    Events,

    /// <summary>An event projection queues one <c>insert</c> per event into <c>marten_history</c> (the Npgsql <c>messages</c> shape).</summary>
    Table,
}

/// <summary>How the chat model (members, last seq) is stored on Marten.</summary>
public enum ChatModel
{
    /// <summary>One <see cref="ChatState"/> document per chat (a single-stream aggregation).</summary>
    Document,

    /// <summary>Flat tables written by set-based <c>QueueSqlCommand</c> statements (<see cref="ChatTableProjection"/>).</summary>
    Table,
}

/// <summary>Every knob the Marten evaluation turns (docs/decisions/read-side.md records what each did).</summary>
public sealed record MartenChatSettings
{
    public required string ConnectionString { get; init; }

    public required string Schema { get; init; }

    /// <summary>Quick: the append is one server-side function call per stream; Rich: Marten reads each stream's state first.</summary>
    public EventAppendMode AppendMode { get; init; } = EventAppendMode.Quick;

    /// <summary>Inline: the chat document is written in the ingest's transaction; Async: the daemon follows; null: no chat projection.</summary>
    public ProjectionLifecycle? ChatLifecycle { get; init; } = ProjectionLifecycle.Inline;

    public ChatModel Chat { get; init; } = ChatModel.Document;

    public HistoryStore History { get; init; } = HistoryStore.Events;

    /// <summary>Events per daemon batch (async projections and rebuilds).</summary>
    public int DaemonBatchSize { get; init; } = 500;

    /// <summary>Rebuilds write their documents with COPY instead of upserts (Marten's <c>RebuildWithBulkCopy</c>).</summary>
    public bool RebuildWithBulkCopy { get; init; }

    /// <summary>Marten's identity map for aggregates in inline projections (no re-load of a chat document updated earlier in the session).</summary>
    public bool UseIdentityMapForAggregates { get; init; } = true;
}
