using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Messaging.Edge.Auth;
using Microsoft.Extensions.Options;

namespace Messaging.UnitTests.Edge;

public sealed class TokenServiceTests
{
    private const string Key = "unit-test-signing-key-0123456789abcdef";

    private static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private static TokenService Service(string key = Key, string issuer = "messaging", string audience = "messaging-edge") =>
        new(Options.Create(new AuthOptions { SigningKey = key, Issuer = issuer, Audience = audience, ClockSkewSeconds = 30 }), new FixedClock(Now));

    [Fact]
    public void An_issued_token_validates_to_its_user_and_device()
    {
        var result = Service().Validate(Service().Issue("ana", "ana-phone"));
        result.IsValid.Should().BeTrue(result.Error);
        result.Identity!.Value.UserId.Should().Be("ana");
        result.Identity.Value.DeviceId.Should().Be("ana-phone");
        result.Identity.Value.ExpiresAt.Should().Be(Now.AddMinutes(60));
        result.Identity.Value.IssuedAt.Should().Be(Now, "iat decides whether a removed device is let back in");
    }

    [Fact]
    public void A_token_signed_with_another_key_is_refused() =>
        Service().Validate(Service(key: new string('x', 40)).Issue("ana", "p")).Error.Should().Be("invalid signature");

    [Fact]
    public void A_tampered_payload_is_refused()
    {
        var token = Service().Issue("ana", "p");
        var parts = token.Split('.');
        var payload = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(parts[1])).Replace("\"ana\"", "\"eve\"", StringComparison.Ordinal);
        var forged = $"{parts[0]}.{Base64Url.EncodeToString(Encoding.UTF8.GetBytes(payload))}.{parts[2]}";
        Service().Validate(forged).Error.Should().Be("invalid signature");
    }

    [Fact]
    public void An_expired_token_is_refused_beyond_the_clock_skew()
    {
        var service = Service();
        service.Validate(service.Issue("ana", "p", Now.AddHours(-2), TimeSpan.FromHours(1))).Error.Should().Be("expired");
        service.Validate(service.Issue("ana", "p", Now.AddHours(-1), TimeSpan.FromHours(1) - TimeSpan.FromSeconds(10))).IsValid.Should().BeTrue("10 s past expiry is within the 30 s skew");
    }

    [Fact]
    public void A_token_from_the_future_is_refused() =>
        Service().Validate(Service().Issue("ana", "p", Now.AddMinutes(5), TimeSpan.FromHours(1))).Error.Should().Be("not yet valid");

    [Fact]
    public void Issuer_and_audience_must_match()
    {
        Service().Validate(Service(issuer: "other").Issue("ana", "p")).Error.Should().Be("wrong issuer");
        Service().Validate(Service(audience: "other").Issue("ana", "p")).Error.Should().Be("wrong audience");
    }

    [Fact]
    public void Only_hs256_is_accepted_and_unsigned_tokens_are_refused()
    {
        var payload = Base64Url.EncodeToString("""{"sub":"ana","device_id":"p","iss":"messaging","aud":"messaging-edge","exp":9999999999}"""u8);
        var none = Base64Url.EncodeToString("""{"alg":"none"}"""u8) + "." + payload + ".";
        Service().Validate(none).IsValid.Should().BeFalse();
        Service().Validate(Base64Url.EncodeToString("""{"alg":"none"}"""u8) + "." + payload + ".c2ln").Error.Should().Be("unsupported algorithm (only HS256)");

        // HS512 over the same key is still refused: no algorithm switching.
        var header = Base64Url.EncodeToString("""{"alg":"HS512"}"""u8);
        var signature = HMACSHA512.HashData(Encoding.UTF8.GetBytes(Key), Encoding.ASCII.GetBytes(header + "." + payload));
        Service().Validate(header + "." + payload + "." + Base64Url.EncodeToString(signature)).Error.Should().Be("unsupported algorithm (only HS256)");
    }

    [Fact]
    public void Claims_must_name_a_user_and_a_device()
    {
        Service().Validate(Sign("""{"device_id":"p","iss":"messaging","aud":"messaging-edge","exp":9999999999}""")).Error.Should().Be("no 'sub'");
        Service().Validate(Sign("""{"sub":"ana","iss":"messaging","aud":"messaging-edge","exp":9999999999}""")).Error.Should().Be("no 'device_id'");
        Service().Validate(Sign("""{"sub":"ana","device_id":"p","iss":"messaging","aud":["x","messaging-edge"],"exp":9999999999}""")).IsValid.Should().BeTrue();
        Service().Validate(Sign("""{"sub":"ana","device_id":"p","iss":"messaging","aud":"messaging-edge"}""")).Error.Should().Be("expired");
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
    public void Garbage_is_refused_without_throwing(string? token) => Service().Validate(token).IsValid.Should().BeFalse();

    [Fact]
    public void An_oversize_token_is_refused_before_any_work() =>
        Service().Validate(new string('a', TokenService.MaxTokenLength + 1)).Error.Should().Be("token too long");

    private static string Sign(string claims)
    {
        var header = Base64Url.EncodeToString("""{"alg":"HS256","typ":"JWT"}"""u8);
        var payload = Base64Url.EncodeToString(Encoding.UTF8.GetBytes(claims));
        var signature = HMACSHA256.HashData(Encoding.UTF8.GetBytes(Key), Encoding.ASCII.GetBytes(header + "." + payload));
        return header + "." + payload + "." + Base64Url.EncodeToString(signature);
    }

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
