namespace Messaging.Contracts.Events;

/// <summary>
/// The sender replaced a message's text. <see cref="MessageSeq"/> is the seq of the
/// <see cref="MessageSent"/> it edits (read models update that row by key).
/// </summary>
public sealed record MessageEdited : ChatEvent
{
    public required string MessageId { get; init; }

    public required long MessageSeq { get; init; }

    /// <summary>The new text; empty when the message is encrypted (<see cref="Payloads"/>).</summary>
    public required string Body { get; init; }

    /// <summary>The new per-device ciphertexts of an encrypted message (address → base64).</summary>
    public IReadOnlyDictionary<string, string>? Payloads { get; init; }
}
