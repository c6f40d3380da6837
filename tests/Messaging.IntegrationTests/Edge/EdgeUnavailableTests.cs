using System.Net;
using System.Text.Json;
using Messaging.Contracts.Protocol;
using Messaging.IntegrationTests.EndToEnd;
using Messaging.IntegrationTests.Harness;

namespace Messaging.IntegrationTests.Edge;

/// <summary>
/// An Edge node whose PostgreSQL is down (its connection string points at a port nothing listens
/// on: what a stopped server looks like from Edge; the shared server keeps running).
/// </summary>
public sealed class DeadDatabaseEdgeHost : IAsyncLifetime
{
    private readonly TestNamespace _ns = new();

    public ServiceHost Host { get; private set; } = null!;

    public HttpClient HttpClient { get; } = new(new HttpClientHandler { AllowAutoRedirect = false });

    public async Task InitializeAsync()
    {
        var settings = TestStack.Settings(_ns);
        settings["ConnectionStrings:Messaging"] = $"Host=127.0.0.1;Port={EdgeProcess.FreePort()};Username=postgres;Database=messaging;Timeout=5";
        Host = await ChatSystem.StartEdgeAsync(settings, node: 0);
    }

    public async Task DisposeAsync()
    {
        HttpClient.Dispose();
        await Host.DisposeAsync();
        await _ns.DisposeAsync();
    }
}

/// <summary>Every HTTP endpoint that reads PostgreSQL answers 503 <c>unavailable</c> when it is down, never 500.</summary>
public sealed class EdgeUnavailableTests(DeadDatabaseEdgeHost edge) : IClassFixture<DeadDatabaseEdgeHost>
{
    [Theory]
    [InlineData("/v1/chats")]
    [InlineData("/v1/chats/some-chat/messages")]
    [InlineData("/v1/presence?userIds=someone-else")]
    [InlineData("/v1/media/m/someone-else/0190a1b2c3d4e5f60718293a4b5c6d7e")]
    public async Task A_read_endpoint_answers_503_unavailable_when_postgresql_is_down(string path)
    {
        var tokens = (Messaging.Edge.Auth.TokenService)edge.Host.Services.GetService(typeof(Messaging.Edge.Auth.TokenService))!;
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(edge.Host.BaseAddress, path));
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", tokens.Issue("ana", "ana-phone"));

        using var response = await edge.HttpClient.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        response.Headers.RetryAfter.Should().NotBeNull();
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        body.RootElement.GetProperty("code").GetString().Should().Be(ErrorCodes.Unavailable);
    }
}
