using System.Buffers;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Messaging.Bench.Connections;

/// <summary>
/// Gets bearer tokens from Edge's local-profile endpoint <c>POST /v1/dev/tokens {"userId","deviceId"}</c>.
/// </summary>
public sealed class DevTokenClient : IDisposable
{
    private static readonly MediaTypeHeaderValue JsonContentType = new("application/json");

    private readonly HttpClient _http;

    public DevTokenClient(TimeSpan requestTimeout)
    {
        // Thousands of token requests at start-up go to two hosts: allow enough parallel connections.
        var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 64, PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
        _http = new HttpClient(handler) { Timeout = requestTimeout };
    }

    public async Task<string> GetTokenAsync(EdgeEndpoint edge, string userId, string deviceId, CancellationToken cancellationToken)
    {
        var body = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(body))
        {
            writer.WriteStartObject();
            writer.WriteString("userId"u8, userId);
            writer.WriteString("deviceId"u8, deviceId);
            writer.WriteEndObject();
        }

        using var content = new ReadOnlyMemoryContent(body.WrittenMemory);
        content.Headers.ContentType = JsonContentType;
        using var response = await _http.PostAsync(new Uri(edge.HttpBase, "v1/dev/tokens"), content, cancellationToken);
        var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new DevTokenException($"POST {edge.HttpBase}v1/dev/tokens for {userId}/{deviceId} answered {(int)response.StatusCode} {response.ReasonPhrase}: {Truncate(bytes)}");
        }

        return ReadToken(bytes) ?? throw new DevTokenException($"POST {edge.HttpBase}v1/dev/tokens answered without a token: {Truncate(bytes)}");
    }

    public void Dispose() => _http.Dispose();

    /// <summary>The token endpoint's reply names the field <c>token</c> or <c>accessToken</c>; accept either.</summary>
    internal static string? ReadToken(ReadOnlySpan<byte> utf8)
    {
        try
        {
            var reader = new Utf8JsonReader(utf8);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isToken = reader.ValueTextEquals("token"u8) || reader.ValueTextEquals("accessToken"u8) || reader.ValueTextEquals("access_token"u8);
                reader.Read();
                if (isToken && reader.TokenType == JsonTokenType.String)
                {
                    return reader.GetString();
                }

                reader.Skip();
            }
        }
        catch (JsonException)
        {
            return null;
        }

        return null;
    }

    private static string Truncate(byte[] bytes) =>
        System.Text.Encoding.UTF8.GetString(bytes, 0, Math.Min(bytes.Length, 300));
}

public sealed class DevTokenException : Exception
{
    public DevTokenException()
    {
    }

    public DevTokenException(string message)
        : base(message)
    {
    }

    public DevTokenException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
