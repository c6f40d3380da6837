using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Messaging.Edge.Auth;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Messaging.UnitTests.Edge;

/// <summary>
/// Production's path: tokens signed by an OpenID Connect issuer whose keys Edge fetches from its
/// metadata (JWKS), configured by <c>Auth:Authority</c> alone. The issuer is a tiny Kestrel app on
/// 127.0.0.1 serving a discovery document and one RSA key.
/// </summary>
public sealed class ExternalIssuerTests : IAsyncLifetime
{
    private readonly RSA _rsa = RSA.Create(2048);
    private WebApplication _issuer = null!;
    private string _authority = "";

    private RsaSecurityKey Key => new(_rsa) { KeyId = "k1" };

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _issuer = builder.Build();
        _issuer.MapGet("/.well-known/openid-configuration", () =>
            Results.Text($$"""{"issuer":"{{_authority}}","jwks_uri":"{{_authority}}/jwks"}""", "application/json"));
        _issuer.MapGet("/jwks", () =>
        {
            var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(_rsa.ExportParameters(false)) { KeyId = "k1" });
            return Results.Text($$"""{"keys":[{"kty":"RSA","kid":"k1","use":"sig","alg":"RS256","n":"{{jwk.N}}","e":"{{jwk.E}}"}]}""", "application/json");
        });
        await _issuer.StartAsync();
        _authority = _issuer.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
    }

    public async Task DisposeAsync()
    {
        await _issuer.DisposeAsync();
        _rsa.Dispose();
    }

    [Fact]
    public async Task A_token_signed_by_the_configured_issuers_jwks_is_accepted_and_others_are_refused()
    {
        await using var edge = await StartEdgeAuthAsync();
        var url = new Uri(edge.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/whoami");
        using var http = new HttpClient();

        (await GetAsync(http, url, Issue(Key, SecurityAlgorithms.RsaSha256, _authority))).Should().Be("ana/phone");

        using var otherRsa = RSA.Create(2048);
        (await GetAsync(http, url, Issue(new RsaSecurityKey(otherRsa) { KeyId = "k1" }, SecurityAlgorithms.RsaSha256, _authority))).Should().Be("401");
        (await GetAsync(http, url, Issue(Key, SecurityAlgorithms.RsaSha256, "https://someone-else"))).Should().Be("401");
        (await GetAsync(http, url, Issue(new SymmetricSecurityKey(new byte[32]), SecurityAlgorithms.HmacSha256, _authority))).Should().Be("401", "no HS256 key is configured: an HMAC token cannot be valid");
    }

    private async Task<WebApplication> StartEdgeAuthAsync()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Auth:Authority"] = _authority,
            ["Auth:Issuer"] = _authority,
            ["Auth:RequireHttpsMetadata"] = "false",
        });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddProblemDetails();
        builder.AddEdgeAuth();
        var app = builder.Build();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapGet("/whoami", (HttpContext context) => context.User.Device().Address).RequireAuthorization();
        await app.StartAsync();
        return app;
    }

    private static string Issue(SecurityKey key, string algorithm, string issuer) => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
    {
        Issuer = issuer,
        Audience = "messaging-edge",
        Expires = DateTime.UtcNow.AddMinutes(5),
        Claims = new Dictionary<string, object> { ["sub"] = "ana", ["device_id"] = "phone" },
        SigningCredentials = new SigningCredentials(key, algorithm),
    });

    private static async Task<string> GetAsync(HttpClient http, Uri url, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await http.SendAsync(request);
        return response.StatusCode == HttpStatusCode.OK ? await response.Content.ReadAsStringAsync() : ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
