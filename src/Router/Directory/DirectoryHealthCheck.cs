using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Messaging.Router.Directory;

/// <summary>
/// Not ready until the device directory caught up: routing with a half-read directory would
/// address events to too few devices, and those recipient lists are written into the log forever.
/// </summary>
public sealed class DirectoryHealthCheck(DeviceDirectory directory) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(directory.IsCaughtUp
            ? HealthCheckResult.Healthy("device directory caught up")
            : HealthCheckResult.Unhealthy("device directory catching up"));
}
