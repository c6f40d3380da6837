namespace Messaging.Edge.Commands;

/// <summary>Direct chats have a deterministic id, so two users writing first at once land in one chat.</summary>
public static class DirectChats
{
    public const string Prefix = "d:";

    /// <summary><c>d:{min}:{max}</c> of the two user ids, compared ordinally (culture-independent).</summary>
    public static string Id(string userA, string userB) =>
        string.CompareOrdinal(userA, userB) <= 0
            ? string.Concat(Prefix, userA, ":", userB)
            : string.Concat(Prefix, userB, ":", userA);
}
