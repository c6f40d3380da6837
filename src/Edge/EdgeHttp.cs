using System.Text.Json.Serialization;
using Messaging.ReadModels.Inbox;

namespace Messaging.Edge;

/// <summary>Body of <c>POST /v1/dev/tokens</c>.</summary>
public sealed record DevTokenRequest(string? UserId, string? DeviceId);

/// <summary>Reply of <c>POST /v1/dev/tokens</c>.</summary>
public sealed record DevTokenResponse(string Token, DateTimeOffset ExpiresAt);

/// <summary>Reply of <c>GET /v1/media/{key}?redirect=false</c>.</summary>
public sealed record MediaUrlResponse(string Key, string Url, DateTimeOffset ExpiresAt);

/// <summary>Reply of <c>GET /v1/chats</c>.</summary>
public sealed record ChatListResponse(IReadOnlyList<ChatSummary> Chats);

/// <summary>
/// Source-generated JSON for Edge's small HTTP API. WebSocket frames and topic records go
/// through <c>ContractsJsonContext</c>; these HTTP bodies are Edge's own (same conventions).
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    RespectNullableAnnotations = true)]
[JsonSerializable(typeof(DevTokenRequest))]
[JsonSerializable(typeof(DevTokenResponse))]
[JsonSerializable(typeof(MediaUrlResponse))]
[JsonSerializable(typeof(ChatListResponse))]
internal sealed partial class EdgeJsonContext : JsonSerializerContext;

/// <summary>Problem details (RFC 7807) with a stable <c>code</c>, as every Edge HTTP error.</summary>
internal static class Problems
{
    public const string BadRequest = "bad_request";
    public const string NotFound = "not_found";

    public static IResult Of(int status, string code, string detail) =>
        Results.Problem(statusCode: status, detail: detail, extensions: new Dictionary<string, object?> { ["code"] = code });
}
