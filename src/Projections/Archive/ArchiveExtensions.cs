using Messaging.Contracts.Devices;
using Messaging.Contracts.Events;
using Messaging.Contracts.Topics;

namespace Messaging.Projections.Archive;

public static class ArchiveExtensions
{
    /// <summary>
    /// The archive's options and store (the service and the CLI: rebuild from the archive,
    /// analytics). The archiver runs in the Projections process when <c>Archive:Enabled</c>:
    /// it is one more consumer of <c>chat.events</c> beside the chat projection, with the same
    /// Kafka settings and deployment, and a separate process would cost a runtime of its own
    /// (≈ 60 MB, an idle fetch per second) for a loop that writes a file every few minutes.
    /// Its own consumer group keeps its position apart: it neither waits for nor slows the read models.
    /// </summary>
    internal static IHostApplicationBuilder AddArchiveCore(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ArchiveOptions>()
            .Bind(builder.Configuration.GetSection(ArchiveOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<ArchiveStore>();
        builder.Services.AddSingleton<ArchiveReader>();
        return builder;
    }

    internal static IHostApplicationBuilder AddArchiver(this IHostApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection(ArchiveOptions.Section);
        if (section.GetValue<bool>(nameof(ArchiveOptions.Enabled)))
        {
            builder.Services.AddSingleton<IArchiveFormat<ChatEvent>, ChatEventsFormat>();
            builder.Services.AddHostedService<Archiver<ChatEvent>>();
            if (section.GetValue(nameof(ArchiveOptions.ArchiveAcks), true))
            {
                builder.Services.AddSingleton<IArchiveFormat<DeviceRecord>>(sp => new AcksFormat(sp.GetRequiredService<ArchiveStore>().Acks, sp.GetRequiredService<TopicNames>()));
                builder.Services.AddHostedService<Archiver<DeviceRecord>>();
            }
        }

        return builder;
    }
}
