namespace Messaging.Edge.Conversation;

public static class ConversationExtensions
{
    /// <summary>Receipts (gathered per node, flushed every <c>Conversation:ReceiptFlushMs</c>), typing, and the user settings table.</summary>
    public static IHostApplicationBuilder AddEdgeConversation(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ConversationOptions>()
            .Bind(builder.Configuration.GetSection(ConversationOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<UserSettingsDirectory>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<UserSettingsDirectory>());
        builder.Services.AddSingleton<ReceiptAggregator>();
        builder.Services.AddHostedService<ReceiptFlusher>();
        builder.Services.AddSingleton<ConversationHandler>();
        return builder;
    }
}
