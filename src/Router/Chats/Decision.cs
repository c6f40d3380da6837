using Messaging.Contracts.Delivery;
using Messaging.Contracts.Events;

namespace Messaging.Router.Chats;

/// <summary>
/// The outcome of one command: the events to append (none for a refusal or a duplicate), at most
/// one reply for the origin device (<see cref="CommandRejected"/> or <see cref="DuplicateSendIgnored"/>),
/// and the chat's state afterwards (null while the chat does not exist).
/// </summary>
public readonly struct Decision(ChatState? state, IReadOnlyList<ChatEvent> events, NodeDelivery? reply)
{
    public ChatState? State { get; } = state;

    public IReadOnlyList<ChatEvent> Events { get; } = events;

    public NodeDelivery? Reply { get; } = reply;

    /// <summary>The state changed exactly when events were emitted.</summary>
    public bool Changed => Events.Count > 0;

    public string? RejectionCode => (Reply as CommandRejected)?.Code;
}
