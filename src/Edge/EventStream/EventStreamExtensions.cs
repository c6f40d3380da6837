namespace Messaging.Edge.EventStream;

public static class EventStreamExtensions
{
    public static IHostApplicationBuilder AddEdgeEventStream(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<EventStreamOptions>()
            .Bind(builder.Configuration.GetSection(EventStreamOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<EventStreamEndpoint>();
        return builder;
    }

    /// <summary><c>GET /v1/events</c> (Server-Sent Events) and <c>POST /v1/commands</c>: the WebSocket's frames over plain HTTP.</summary>
    public static IEndpointRouteBuilder MapEdgeEventStream(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/events", (HttpContext context, EventStreamEndpoint endpoint) => endpoint.StreamAsync(context)).RequireAuthorization();
        app.MapPost("/v1/commands", (HttpContext context, EventStreamEndpoint endpoint) => endpoint.PostAsync(context)).RequireAuthorization();
        return app;
    }
}
