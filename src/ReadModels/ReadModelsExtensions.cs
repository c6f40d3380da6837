using Messaging.ReadModels.Chats;
using Messaging.ReadModels.Checkpoints;
using Messaging.ReadModels.Inbox;
using Messaging.ReadModels.Schema;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Messaging.ReadModels;

public static class ReadModelsExtensions
{
    /// <summary>The schema's migration runner and the typed queries; expects AddMessagingPostgres (the data source).</summary>
    public static IHostApplicationBuilder AddReadModels(this IHostApplicationBuilder builder)
    {
        builder.Services.TryAddSingleton<MigrationRunner>();
        builder.Services.TryAddSingleton<CheckpointStore>();
        builder.Services.TryAddSingleton<HistoryQueries>();
        builder.Services.TryAddSingleton<MemberQueries>();
        builder.Services.TryAddSingleton<ConversationQueries>();
        builder.Services.TryAddSingleton<CursorFlushRequests>();
        return builder;
    }
}
