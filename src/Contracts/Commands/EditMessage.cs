namespace Messaging.Contracts.Commands;

/// <summary>
/// Replace the text of a message the origin user sent, within <c>Chat:EditWindowMinutes</c> of
/// sending it. An encrypted message (sent with <see cref="SendMessage.Payloads"/>) is edited with
/// new <see cref="Payloads"/> for the same devices, a plain one with a new <see cref="Body"/>.
/// </summary>
public sealed record EditMessage : ChatCommand
{
    public required string MessageId { get; init; }

    /// <summary>The new text; empty for an encrypted message (then <see cref="Payloads"/>).</summary>
    public required string Body { get; init; }

    /// <summary>Per-device ciphertexts (address → base64), as on <see cref="SendMessage.Payloads"/>.</summary>
    public IReadOnlyDictionary<string, string>? Payloads { get; init; }

    /// <summary>The read side's facts about the message, for one older than the Router's recent index (Edge fills it when the client gave the message's seq).</summary>
    public MessageFacts? Target { get; init; }
}
