using Messaging.Client;
using Messaging.Contracts.Protocol;

namespace Messaging.IntegrationTests.Harness;

/// <summary>
/// Waits for the chat read model. History, the chat list and membership checks read it, and the
/// live path (pushes) is ahead of it: a test that saw a push and reads history at once races the
/// projection, which under a loaded CI machine lags by seconds.
/// </summary>
public static class Projected
{
    /// <summary>
    /// Asks <paramref name="member"/>'s history of the chat until <paramref name="done"/> holds; a
    /// <c>not_member</c> refusal (the projection has not listed the member yet) counts as not yet.
    /// </summary>
    public static async Task<HistoryPageFrame> HistoryAsync(ChatClient member, string chatId, Func<HistoryPageFrame, bool> done, TimeSpan timeout, string what) =>
        (await Eventually.ReturnsAsync<HistoryPageFrame?>(
            async () =>
            {
                try
                {
                    return await member.HistoryAsync(chatId);
                }
                catch (ChatServerException ex) when (ex.Error.Code == ErrorCodes.NotMember)
                {
                    return null;
                }
            },
            page => page is not null && done(page),
            timeout,
            what))!;

    /// <summary>Waits until the member's history of the chat holds <paramref name="messageId"/>.</summary>
    public static Task<HistoryPageFrame> MessageAsync(ChatClient member, string chatId, string messageId, TimeSpan timeout) =>
        HistoryAsync(member, chatId, page => page.Messages.Any(m => m.MessageId == messageId), timeout, $"{messageId} in the history of {chatId}");
}
