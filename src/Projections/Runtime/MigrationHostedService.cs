using Messaging.ReadModels.Schema;
using Microsoft.Extensions.Options;

namespace Messaging.Projections.Runtime;

/// <summary>Migrates before any projection runner starts (hosted services start in registration order).</summary>
internal sealed class MigrationHostedService(MigrationRunner runner, IOptions<ProjectionsOptions> options) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.MigrateOnStart)
        {
            await runner.MigrateAsync(cancellationToken);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
