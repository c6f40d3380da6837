using Messaging.ReadModels.Inbox;

namespace Messaging.Edge.Sync;

public static class SyncExtensions
{
    public static IHostApplicationBuilder AddEdgeSync(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<InboxQueries>();
        builder.Services.AddSingleton<InboxCatchUp>();
        builder.Services.AddSingleton<DeviceShares>();
        builder.Services.AddSingleton<InboxSync>();
        return builder;
    }
}
