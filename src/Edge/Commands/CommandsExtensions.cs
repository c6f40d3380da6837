namespace Messaging.Edge.Commands;

public static class CommandsExtensions
{
    /// <summary>The node's producer and the frame → command handler.</summary>
    public static IHostApplicationBuilder AddEdgeCommands(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<EdgeProducer>();
        builder.Services.AddSingleton<AckProducer>();
        builder.Services.AddSingleton<AckAccess>();
        builder.Services.AddSingleton<AckBatcher>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<AckBatcher>());
        builder.Services.AddSingleton<ChatCommandHandler>();
        return builder;
    }
}
