using Messaging.Contracts.Topics;
using Messaging.Hosting.Kafka;
using Messaging.Router.Chats;
using Messaging.Router.Directory;
using Messaging.Router.Routing;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Messaging.Router;

public static class RouterExtensions
{
    /// <summary>The Router's chat side: device directory, the chat command consumer loop and its readiness check.</summary>
    public static IHostApplicationBuilder AddRouter(this IHostApplicationBuilder builder)
    {
        builder.AddRouterDirectory();
        builder.Services.TryAddSingleton<RouterMetrics>();
        builder.Services.AddSingleton<RouterLoop>();
        builder.Services.AddHostedService<RouterWorker>();
        builder.Services.AddHealthChecks().AddCheck<DirectoryHealthCheck>("router-directory", tags: ["ready"]);
        return builder;
    }

    /// <summary>The Router's options and device directory, shared by the chat loop and the device loop (registered once).</summary>
    internal static IHostApplicationBuilder AddRouterDirectory(this IHostApplicationBuilder builder)
    {
        if (builder.Services.Any(s => s.ServiceType == typeof(DeviceDirectory)))
        {
            return builder;
        }

        builder.Services.AddOptions<RouterOptions>()
            .Bind(builder.Configuration.GetSection(RouterOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<RouterOptions>, RouterOptionsValidator>();
        builder.Services.AddOptions<ChatOptions>()
            .Bind(builder.Configuration.GetSection(ChatOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton(sp => RouterTopics(sp.GetRequiredService<IOptions<KafkaOptions>>().Value, sp.GetRequiredService<IOptions<RouterOptions>>().Value));
        builder.Services.AddSingleton<DeviceDirectory>();
        builder.Services.AddSingleton<IDeviceDirectory>(sp => sp.GetRequiredService<DeviceDirectory>());
        return builder;
    }

    /// <summary>The topic names with <c>Router:ChatStateTopic</c> applied (registered after the shared defaults, so it wins in the Router).</summary>
    internal static TopicNames RouterTopics(KafkaOptions kafka, RouterOptions options) =>
        options.ChatStateTopic.Length == 0
            ? new TopicNames(kafka.TopicPrefix)
            : new TopicNames(kafka.TopicPrefix) { ChatState = kafka.TopicPrefix + options.ChatStateTopic };
}
