namespace Messaging.Contracts.Commands;

/// <summary>
/// What the read side holds about a message, looked up by Edge (by the chat and the seq the client
/// gave) for an edit, delete, reaction or reply: the Router's recent-message index covers only the
/// last <c>Router:RecentClientMsgIds</c> messages, and without these facts an admin could not
/// delete, nor anyone react or reply to, an older message (docs/router.md, "Recent messages").
/// The Router uses them only for a message its index no longer holds.
/// </summary>
public sealed record MessageFacts
{
    public required long Seq { get; init; }

    public required string SenderUserId { get; init; }

    public required DateTimeOffset SentAt { get; init; }

    /// <summary>Sent with per-device payloads.</summary>
    public bool Encrypted { get; init; }

    /// <summary>Already deleted for everyone when Edge looked.</summary>
    public bool Deleted { get; init; }
}
