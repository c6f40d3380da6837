namespace Messaging.Edge.Sync;

public static class SyncExtensions
{
    public static IHostApplicationBuilder AddEdgeSync(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<InboxCatchUp>();
        builder.Services.AddSingleton<InboxSync>();
        return builder;
    }
}
