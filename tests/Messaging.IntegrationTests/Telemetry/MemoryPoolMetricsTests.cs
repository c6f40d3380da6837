using Messaging.Hosting.Telemetry;
using Messaging.IntegrationTests.Harness;
using Microsoft.AspNetCore.Builder;

namespace Messaging.IntegrationTests.Telemetry;

/// <summary>Kestrel's memory pool meter records on every buffer rented and returned: exported only when asked (<c>Telemetry:MemoryPoolMetrics</c>).</summary>
public sealed class MemoryPoolMetricsTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Kestrels_memory_pool_meter_is_exported_only_when_asked(bool asked)
    {
        var settings = new Dictionary<string, string?> { ["Telemetry:MemoryPoolMetrics"] = asked ? "true" : "false" };
        await using var host = await ServiceHost.StartAsync(settings, builder => builder.AddMessagingTelemetry(), app =>
        {
            app.MapMessagingTelemetry();
            app.MapGet("/hello", () => "hello");
        });
        using var http = new HttpClient { BaseAddress = host.BaseAddress };
        (await http.GetStringAsync("/hello")).Should().Be("hello");

        // The request's buffers came from Kestrel's pool; the scrape reads the series as they are now.
        var scrape = await PrometheusScrape.FetchAsync(host.BaseAddress);

        scrape.Text.Should().Contain("http_server_request_duration_seconds", "ASP.NET Core's own meters are exported either way");
        if (asked)
        {
            scrape.Text.Should().Contain("aspnetcore_memory_pool_");
        }
        else
        {
            scrape.Text.Should().NotContain("aspnetcore_memory_pool_");
        }
    }
}
