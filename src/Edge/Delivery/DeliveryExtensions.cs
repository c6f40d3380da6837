namespace Messaging.Edge.Delivery;

public static class DeliveryExtensions
{
    /// <summary>The consumer of this node's delivery topic.</summary>
    public static IHostApplicationBuilder AddEdgeDelivery(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<DeliveryConsumer>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<DeliveryConsumer>());
        return builder;
    }
}
