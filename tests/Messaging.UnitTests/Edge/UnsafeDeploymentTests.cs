using Messaging.Edge.Auth;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Messaging.UnitTests.Edge;

/// <summary>Edge's auth wiring refuses to start with unsafe settings outside the development environments (ValidateOnStart).</summary>
public sealed class UnsafeDeploymentTests
{
    private const string StrongKey = "a-signing-key-of-at-least-32-bytes!!";

    [Fact]
    public async Task Edge_refuses_to_start_in_production_with_dev_tokens_on()
    {
        var start = () => StartAsync("Production", new() { ["Auth:SigningKey"] = StrongKey, ["Auth:DevTokens"] = "true" });
        (await start.Should().ThrowAsync<OptionsValidationException>()).Which.Message.Should().Contain("Auth:DevTokens=true is refused in environment 'Production'");
    }

    [Fact]
    public async Task Edge_refuses_to_start_with_a_weak_signing_key()
    {
        var start = () => StartAsync("Production", new() { ["Auth:SigningKey"] = "short-key" });
        (await start.Should().ThrowAsync<OptionsValidationException>()).Which.Message.Should().Contain("HS256 needs at least 256");
    }

    [Fact]
    public async Task Edge_starts_in_production_with_a_strong_key_and_without_dev_tokens_and_locally_with_them()
    {
        await StartAsync("Production", new() { ["Auth:SigningKey"] = StrongKey });
        await StartAsync("Local", new() { ["Auth:SigningKey"] = StrongKey, ["Auth:DevTokens"] = "true" });
    }

    private static async Task StartAsync(string environment, Dictionary<string, string?> settings)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = environment });
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.AddEdgeAuth();
        await using var app = builder.Build();
        await app.StartAsync();
        await app.StopAsync();
    }
}
