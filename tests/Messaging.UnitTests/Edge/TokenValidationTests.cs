using System.Buffers.Text;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Messaging.Edge.Auth;

namespace Messaging.UnitTests.Edge;

/// <summary>JwtBearer's checks with exactly the settings Edge gives it (<see cref="TokenValidation"/>), on tokens from <see cref="TokenService"/> and hand-made ones.</summary>
public sealed class TokenValidationTests
{
    private const string Key = "unit-test-signing-key-0123456789abcdef";

    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    private static AuthOptions Options(string key = Key, string issuer = "messaging", string audience = "messaging-edge") =>
        new() { SigningKey = key, Issuer = issuer, Audience = audience, ClockSkewSeconds = 30 };

    private static TokenService Service(string key = Key, string issuer = "messaging", string audience = "messaging-edge") =>
        new(Microsoft.Extensions.Options.Options.Create(Options(key, issuer, audience)), TimeProvider.System);

    /// <summary>Validates as JwtBearer does (the same handler and parameters), then the claim rules of OnTokenValidated.</summary>
    private static async Task<(ClaimsPrincipal? User, string? Error)> ValidateAsync(string? token)
    {
        if (token is { Length: > TokenValidation.MaxTokenLength })
        {
            return (null, "token too long");
        }

        var result = await TokenValidation.Handler().ValidateTokenAsync(token!, TokenValidation.Parameters(Options()));
        if (!result.IsValid)
        {
            return (null, TokenValidation.Reason(result.Exception));
        }

        var user = new ClaimsPrincipal(result.ClaimsIdentity);
        return TokenValidation.CheckIdentity(user) is { } error ? (null, error) : (user, null);
    }

    [Fact]
    public async Task An_issued_token_validates_to_its_user_and_device_with_the_jwt_claim_names()
    {
        var (user, error) = await ValidateAsync(Service().Issue("ana", "ana-phone"));
        error.Should().BeNull();
        user!.FindFirst("sub")!.Value.Should().Be("ana");
        user.FindFirst("device_id")!.Value.Should().Be("ana-phone");
        user.FindFirst("iat").Should().NotBeNull("the devices feature reads iat under its JWT name");
        user.ExpiresAt().Should().BeCloseTo(DateTimeOffset.UtcNow.AddMinutes(60), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_token_signed_with_another_key_is_refused() =>
        (await ValidateAsync(Service(key: new string('x', 40)).Issue("ana", "p"))).Error.Should().Be("invalid signature");

    [Fact]
    public async Task A_tampered_payload_is_refused()
    {
        var token = Service().Issue("ana", "p");
        var parts = token.Split('.');
        var payload = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(parts[1])).Replace("\"ana\"", "\"eve\"", StringComparison.Ordinal);
        var forged = $"{parts[0]}.{Base64Url.EncodeToString(Encoding.UTF8.GetBytes(payload))}.{parts[2]}";
        (await ValidateAsync(forged)).Error.Should().Be("invalid signature");
    }

    [Fact]
    public async Task An_expired_token_is_refused_beyond_the_clock_skew()
    {
        var service = Service();
        (await ValidateAsync(service.Issue("ana", "p", Now.AddHours(-2), TimeSpan.FromHours(1)))).Error.Should().Be("expired");
        (await ValidateAsync(service.Issue("ana", "p", Now.AddHours(-1), TimeSpan.FromHours(1) - TimeSpan.FromSeconds(10)))).Error
            .Should().BeNull("10 s past expiry is within the 30 s skew");
    }

    [Fact]
    public async Task A_token_from_the_future_is_refused() =>
        (await ValidateAsync(Service().Issue("ana", "p", Now.AddMinutes(5), TimeSpan.FromHours(1)))).Error.Should().Be("not yet valid");

    [Fact]
    public async Task Issuer_and_audience_must_match()
    {
        (await ValidateAsync(Service(issuer: "other").Issue("ana", "p"))).Error.Should().Be("wrong issuer");
        (await ValidateAsync(Service(audience: "other").Issue("ana", "p"))).Error.Should().Be("wrong audience");
    }

    [Fact]
    public async Task Only_hs256_is_accepted_and_unsigned_tokens_are_refused()
    {
        var payload = Base64Url.EncodeToString(Encoding.UTF8.GetBytes(Claims("""{"sub":"ana","device_id":"p","iss":"messaging","aud":"messaging-edge"}""")));
        (await ValidateAsync(Base64Url.EncodeToString("""{"alg":"none"}"""u8) + "." + payload + ".")).Error.Should().NotBeNull();
        (await ValidateAsync(Base64Url.EncodeToString("""{"alg":"none"}"""u8) + "." + payload + ".c2ln")).Error.Should().NotBeNull();

        // HS512 over the same key is still refused: no algorithm switching. (A 64-byte key: IdentityModel wants 512 bits for HS512.)
        var longKey = new string('k', 64);
        var header = Base64Url.EncodeToString("""{"alg":"HS512","typ":"JWT"}"""u8);
        var signature = HMACSHA512.HashData(Encoding.UTF8.GetBytes(longKey), Encoding.ASCII.GetBytes(header + "." + payload));
        var hs512 = header + "." + payload + "." + Base64Url.EncodeToString(signature);
        var onlyHs256 = TokenValidation.Parameters(Options(key: longKey));
        var refused = await TokenValidation.Handler().ValidateTokenAsync(hs512, onlyHs256);
        refused.IsValid.Should().BeFalse();
        TokenValidation.Reason(refused.Exception).Should().Be("invalid signature", "IdentityModel reports a refused algorithm as a signature no allowed key and algorithm verifies");
        var allowingHs512 = TokenValidation.Parameters(Options(key: longKey));
        allowingHs512.ValidAlgorithms = ["HS512"];
        (await TokenValidation.Handler().ValidateTokenAsync(hs512, allowingHs512)).IsValid.Should().BeTrue("the signature itself is good: only the algorithm rule refused it");
    }

    [Fact]
    public async Task Claims_must_name_a_valid_user_and_device()
    {
        (await ValidateAsync(Sign("""{"device_id":"p","iss":"messaging","aud":"messaging-edge"}"""))).Error.Should().Be("no 'sub'");
        (await ValidateAsync(Sign("""{"sub":"ana","iss":"messaging","aud":"messaging-edge"}"""))).Error.Should().Be("no 'device_id'");
        (await ValidateAsync(Sign("""{"sub":"ana","device_id":"p","iss":"messaging","aud":["x","messaging-edge"]}"""))).Error.Should().BeNull();
        (await ValidateAsync(Sign("""{"sub":"ana","device_id":"p","iss":"messaging","aud":"messaging-edge"}""", withExpiry: false))).Error.Should().Be("expired");

        // The shared id rules (Ids): no ':' or '/' in a user id, no '/' or control characters in a device id.
        (await ValidateAsync(Sign("""{"sub":"d:ana","device_id":"p","iss":"messaging","aud":"messaging-edge"}"""))).Error.Should().Be("'sub' is not a valid user id");
        (await ValidateAsync(Sign("""{"sub":"ana/x","device_id":"p","iss":"messaging","aud":"messaging-edge"}"""))).Error.Should().Be("'sub' is not a valid user id");
        (await ValidateAsync(Sign("""{"sub":"ana","device_id":"a/b","iss":"messaging","aud":"messaging-edge"}"""))).Error.Should().Be("'device_id' is not a valid device id");
        (await ValidateAsync(Sign("""{"sub":"ana","device_id":"p\u0000","iss":"messaging","aud":"messaging-edge"}"""))).Error.Should().Be("'device_id' is not a valid device id");
        (await ValidateAsync(Sign("{\"sub\":\"" + new string('a', 129) + "\",\"device_id\":\"p\",\"iss\":\"messaging\",\"aud\":\"messaging-edge\"}"))).Error.Should().Be("'sub' is not a valid user id");
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("a.b")]
    [InlineData("a.b.c.d")]
    [InlineData("!!.??.**")]
    [InlineData("e30.e30.")]
    [InlineData("bm90IGpzb24.bm90IGpzb24.c2ln")]
    public async Task Garbage_is_refused_without_throwing(string? token) => (await ValidateAsync(token)).Error.Should().NotBeNull();

    [Fact]
    public async Task An_oversize_token_is_refused_before_any_work() =>
        (await ValidateAsync(new string('a', TokenValidation.MaxTokenLength + 1))).Error.Should().Be("token too long");

    [Fact]
    public void The_algorithms_follow_the_configured_issuers()
    {
        TokenValidation.Algorithms(Options()).Should().Equal("HS256");
        TokenValidation.Algorithms(new AuthOptions { Authority = "https://id.example" }).Should().Equal("RS256", "PS256", "ES256");
        TokenValidation.Algorithms(new AuthOptions { SigningKey = Key, Authority = "https://id.example" }).Should().StartWith("HS256");
        TokenValidation.Algorithms(new AuthOptions { Authority = "https://id.example", Algorithms = ["ES384"] }).Should().Equal("ES384");
        TokenValidation.Parameters(new AuthOptions { Authority = "https://id.example" }).IssuerSigningKey.Should().BeNull("keys come from the issuer's JWKS");
    }

    private static string Claims(string json, bool withExpiry = true) =>
        withExpiry ? json[..^1] + ",\"exp\":" + Now.AddHours(1).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture) + "}" : json;

    private static string Sign(string claims, bool withExpiry = true)
    {
        var header = Base64Url.EncodeToString("""{"alg":"HS256","typ":"JWT"}"""u8);
        var payload = Base64Url.EncodeToString(Encoding.UTF8.GetBytes(Claims(claims, withExpiry)));
        var signature = HMACSHA256.HashData(Encoding.UTF8.GetBytes(Key), Encoding.ASCII.GetBytes(header + "." + payload));
        return header + "." + payload + "." + Base64Url.EncodeToString(signature);
    }
}
