using Messaging.Contracts;
using Messaging.Contracts.Protocol;
using Messaging.Contracts.Serialization;
using Messaging.Edge.Auth;
using Messaging.Edge.Sync;
using Messaging.ReadModels.Inbox;
using Microsoft.Extensions.Options;

namespace Messaging.Edge.History;

public static class HistoryExtensions
{
    public static IHostApplicationBuilder AddEdgeHistory(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<HistoryReader>();
        return builder;
    }

    /// <summary>
    /// <c>GET /v1/chats</c> (the caller's chats, last message, unread count of the calling device) and
    /// <c>GET /v1/chats/{chatId}/messages?beforeSeq=&amp;limit=</c> (a <c>history.page</c>, members only).
    /// </summary>
    public static IEndpointRouteBuilder MapEdgeHistory(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/chats", ListChatsAsync).RequireAuthorization();
        app.MapGet("/v1/chats/{chatId}/messages", PageAsync).RequireAuthorization();
        return app;
    }

    private static async Task<IResult> ListChatsAsync(HttpContext context, int? limit, InboxQueries inbox, DeviceShares shares, InboxCatchUp catchUp, IOptions<EdgeOptions> options, CancellationToken cancellationToken)
    {
        var max = options.Value.HistoryMaxPageSize;
        if (limit is < 1 || limit > max)
        {
            return Problems.Of(StatusCodes.Status400BadRequest, Problems.BadRequest, $"'limit' must be 1-{max}");
        }

        var device = context.User.Device();
        // Causal like a sync: a chat created a moment ago is listed even if the chat projection,
        // which fetches in batches, has not written it yet, and the unread count counts no message
        // the device acked before asking, although the inbox runner writes cursors about once a
        // second (Projections:InboxPageLingerMs). Both waits run at once, each at most Edge:SyncCatchUpMs.
        await Task.WhenAll(catchUp.WaitUnmeteredAsync(device, cancellationToken), catchUp.WaitForCursorsAsync(device, cancellationToken));
        var chats = await inbox.ChatsAsync(device, shares.HistoryFrom(device), limit ?? max, cancellationToken);
        return Results.Json(new ChatListResponse(chats), EdgeJsonContext.Default.ChatListResponse);
    }

    private static async Task<IResult> PageAsync(HttpContext context, string chatId, long? beforeSeq, int? limit, HistoryReader reader, IOptions<EdgeOptions> options, CancellationToken cancellationToken)
    {
        var edge = options.Value;
        if (!Ids.IsValidChatId(chatId) || beforeSeq is < 1 || limit is < 1 || limit > edge.HistoryMaxPageSize)
        {
            return Problems.Of(StatusCodes.Status400BadRequest, Problems.BadRequest, $"'chatId' must be a valid chat id, 'beforeSeq' at least 1 and 'limit' 1-{edge.HistoryMaxPageSize}");
        }

        var page = await reader.PageAsync(context.User.Device(), chatId, beforeSeq, limit ?? edge.HistoryPageSize, null, cancellationToken);
        return page is null
            ? Problems.Of(StatusCodes.Status403Forbidden, ErrorCodes.NotMember, "not a member of this chat")
            : Results.Json<ServerFrame>(page, ContractsJsonContext.Default.ServerFrame);
    }
}
