namespace Messaging.Contracts;

/// <summary>Chat id rules Edge (which computes a direct chat's id) and the Router (which checks it) share.</summary>
public static class ChatIds
{
    public const string DirectPrefix = "d:";

    /// <summary>
    /// The one chat id of the direct chat between two users, <c>d:{min}:{max}</c> (ordinal order), so
    /// both users writing first at once land on the same key and the same Router decides.
    /// </summary>
    public static string Direct(string userA, string userB) =>
        string.CompareOrdinal(userA, userB) <= 0
            ? string.Concat(DirectPrefix, userA, ":", userB)
            : string.Concat(DirectPrefix, userB, ":", userA);

    public static bool IsDirect(string chatId) => chatId.StartsWith(DirectPrefix, StringComparison.Ordinal);
}
