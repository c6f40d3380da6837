using System.Buffers;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace Messaging.Edge.Auth;

/// <summary>The identity a valid token carries.</summary>
public readonly record struct TokenIdentity(string UserId, string DeviceId, DateTimeOffset ExpiresAt, DateTimeOffset IssuedAt);

/// <summary>Outcome of <see cref="TokenService.Validate"/>: an identity, or why the token is refused.</summary>
public readonly record struct TokenValidation(TokenIdentity? Identity, string? Error)
{
    public bool IsValid => Identity is not null;

    public static TokenValidation Fail(string error) => new(null, error);
}

/// <summary>
/// Issues and validates compact HS256 JWTs (RFC 7519): <c>sub</c> = user id, <c>device_id</c> =
/// device id, plus <c>iss</c>, <c>aud</c>, <c>iat</c>, <c>nbf</c>, <c>exp</c>.
/// Written on the BCL because Microsoft.AspNetCore.Authentication.JwtBearer 10.x cannot be
/// restored from the registry here (it needs Microsoft.IdentityModel.Protocols.OpenIdConnect
/// 8.19.2, absent: NU1102). Only HS256 is accepted — no <c>none</c>, no algorithm switching —
/// and the signature is compared in constant time.
/// </summary>
public sealed class TokenService
{
    /// <summary>Longer inputs are refused before any work: a token is a few hundred bytes.</summary>
    public const int MaxTokenLength = 8192;

    public const string DeviceIdClaim = "device_id";

    public const string IssuedAtClaim = "iat";

    private static readonly byte[] Header = Encoding.UTF8.GetBytes(Base64Url.EncodeToString("""{"alg":"HS256","typ":"JWT"}"""u8));

    private readonly byte[] _key;
    private readonly AuthOptions _options;
    private readonly TimeProvider _clock;

    public TokenService(IOptions<AuthOptions> options, TimeProvider clock)
    {
        _options = options.Value;
        _clock = clock;
        _key = Encoding.UTF8.GetBytes(_options.SigningKey);
    }

    public TimeSpan DefaultLifetime => TimeSpan.FromMinutes(_options.TokenLifetimeMinutes);

    /// <summary>Issues a token for the device, valid for <c>Auth:TokenLifetimeMinutes</c>.</summary>
    public string Issue(string userId, string deviceId) => Issue(userId, deviceId, _clock.GetUtcNow(), DefaultLifetime);

    /// <summary>Issues a token valid from <paramref name="notBefore"/> for <paramref name="lifetime"/> (tests issue expired ones).</summary>
    public string Issue(string userId, string deviceId, DateTimeOffset notBefore, TimeSpan lifetime)
    {
        var payload = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(payload))
        {
            writer.WriteStartObject();
            writer.WriteString("sub"u8, userId);
            writer.WriteString("device_id"u8, deviceId);
            writer.WriteString("iss"u8, _options.Issuer);
            writer.WriteString("aud"u8, _options.Audience);
            writer.WriteNumber("iat"u8, notBefore.ToUnixTimeSeconds());
            writer.WriteNumber("nbf"u8, notBefore.ToUnixTimeSeconds());
            writer.WriteNumber("exp"u8, (notBefore + lifetime).ToUnixTimeSeconds());
            writer.WriteEndObject();
        }

        var encodedPayload = Base64Url.EncodeToUtf8(payload.WrittenSpan);
        var signingInput = new byte[Header.Length + 1 + encodedPayload.Length];
        Header.CopyTo(signingInput, 0);
        signingInput[Header.Length] = (byte)'.';
        encodedPayload.CopyTo(signingInput, Header.Length + 1);
        var signature = HMACSHA256.HashData(_key, signingInput);
        return string.Concat(Encoding.ASCII.GetString(signingInput), ".", Base64Url.EncodeToString(signature));
    }

    /// <summary>Checks shape, algorithm, signature, issuer, audience and lifetime. Never throws on bad input.</summary>
    public TokenValidation Validate(string? token)
    {
        if (string.IsNullOrEmpty(token))
        {
            return TokenValidation.Fail("no token");
        }

        if (token.Length > MaxTokenLength)
        {
            return TokenValidation.Fail("token too long");
        }

        var firstDot = token.IndexOf('.', StringComparison.Ordinal);
        var lastDot = token.LastIndexOf('.');
        if (firstDot <= 0 || lastDot == firstDot || token.IndexOf('.', firstDot + 1) != lastDot || lastDot == token.Length - 1)
        {
            return TokenValidation.Fail("not a compact JWS");
        }

        try
        {
            if (!HeaderIsHs256(Base64Url.DecodeFromChars(token.AsSpan(0, firstDot))))
            {
                return TokenValidation.Fail("unsupported algorithm (only HS256)");
            }

            Span<byte> expected = stackalloc byte[HMACSHA256.HashSizeInBytes];
            var signingInput = Encoding.ASCII.GetBytes(token, 0, lastDot);
            HMACSHA256.HashData(_key, signingInput, expected);
            var signature = Base64Url.DecodeFromChars(token.AsSpan(lastDot + 1));
            if (!CryptographicOperations.FixedTimeEquals(signature, expected))
            {
                return TokenValidation.Fail("invalid signature");
            }

            return ValidateClaims(Base64Url.DecodeFromChars(token.AsSpan(firstDot + 1, lastDot - firstDot - 1)));
        }
        catch (FormatException)
        {
            return TokenValidation.Fail("not base64url");
        }
        catch (JsonException)
        {
            return TokenValidation.Fail("not JSON");
        }
        catch (InvalidOperationException)
        {
            return TokenValidation.Fail("malformed claims");
        }
    }

    private static bool HeaderIsHs256(ReadOnlySpan<byte> header)
    {
        var reader = new Utf8JsonReader(header);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        var alg = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("alg"u8))
            {
                reader.Read();
                alg = reader.TokenType == JsonTokenType.String && reader.ValueTextEquals("HS256"u8);
                if (!alg)
                {
                    return false;
                }
            }
            else if (reader.ValueTextEquals("crit"u8))
            {
                // Critical extensions we do not implement make the token invalid (RFC 7515 §4.1.11).
                return false;
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return alg;
    }

    private TokenValidation ValidateClaims(ReadOnlySpan<byte> payload)
    {
        string? sub = null, device = null, iss = null;
        long? exp = null, nbf = null, iat = null;
        var audienceOk = false;
        var reader = new Utf8JsonReader(payload);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return TokenValidation.Fail("claims are not an object");
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("sub"u8))
            {
                sub = ReadString(ref reader);
            }
            else if (reader.ValueTextEquals("device_id"u8))
            {
                device = ReadString(ref reader);
            }
            else if (reader.ValueTextEquals("iss"u8))
            {
                iss = ReadString(ref reader);
            }
            else if (reader.ValueTextEquals("aud"u8))
            {
                audienceOk = ReadAudience(ref reader, _options.Audience);
            }
            else if (reader.ValueTextEquals("exp"u8))
            {
                exp = ReadTime(ref reader);
            }
            else if (reader.ValueTextEquals("nbf"u8))
            {
                nbf = ReadTime(ref reader);
            }
            else if (reader.ValueTextEquals("iat"u8))
            {
                iat = ReadTime(ref reader);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        var now = _clock.GetUtcNow().ToUnixTimeSeconds();
        var skew = _options.ClockSkewSeconds;
        if (string.IsNullOrEmpty(sub))
        {
            return TokenValidation.Fail("no 'sub'");
        }

        if (string.IsNullOrEmpty(device))
        {
            return TokenValidation.Fail("no 'device_id'");
        }

        if (!string.Equals(iss, _options.Issuer, StringComparison.Ordinal))
        {
            return TokenValidation.Fail("wrong issuer");
        }

        if (!audienceOk)
        {
            return TokenValidation.Fail("wrong audience");
        }

        if (exp is null || exp.Value + skew <= now)
        {
            return TokenValidation.Fail("expired");
        }

        if (nbf is not null && nbf.Value - skew > now)
        {
            return TokenValidation.Fail("not yet valid");
        }

        // No (or a nonsensical) iat: issued at the dawn of time, so it never re-registers a removed device.
        var issuedAt = iat is { } at && at >= 0 && at <= exp.Value ? DateTimeOffset.FromUnixTimeSeconds(at) : DateTimeOffset.MinValue;
        return new TokenValidation(new TokenIdentity(sub, device, DateTimeOffset.FromUnixTimeSeconds(exp.Value), issuedAt), null);
    }

    private static string? ReadString(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.String)
        {
            return reader.GetString();
        }

        reader.Skip();
        return null;
    }

    private static long? ReadTime(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var seconds))
        {
            return seconds;
        }

        reader.Skip();
        return null;
    }

    private static bool ReadAudience(ref Utf8JsonReader reader, string audience)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.String)
        {
            return reader.ValueTextEquals(audience);
        }

        var found = false;
        if (reader.TokenType == JsonTokenType.StartArray)
        {
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                if (reader.TokenType == JsonTokenType.String)
                {
                    found |= reader.ValueTextEquals(audience);
                }
                else
                {
                    reader.Skip();
                }
            }

            return found;
        }

        reader.Skip();
        return false;
    }
}
