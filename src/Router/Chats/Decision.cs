using Messaging.Contracts.Delivery;
using Messaging.Contracts.Events;

namespace Messaging.Router.Chats;

/// <summary>
/// The outcome of one command: the events to append (none for a refusal or a duplicate), at most
/// one reply for the origin device (<see cref="CommandRejected"/> or <see cref="DuplicateSendIgnored"/>),
/// and the chat's state afterwards (null while the chat does not exist). <see cref="Recipients"/>
/// holds, beside each event, the device addresses its node deliveries go to: they stay out of
/// the event (chat.events v3), so the log's size and every reader's cost do not grow with the group.
/// </summary>
public readonly struct Decision(ChatState? state, IReadOnlyList<ChatEvent> events, NodeDelivery? reply, IReadOnlyList<string[]>? recipients = null)
{
    public ChatState? State { get; } = state;

    public IReadOnlyList<ChatEvent> Events { get; } = events;

    public NodeDelivery? Reply { get; } = reply;

    /// <summary>Per event (same index as <see cref="Events"/>): every device of every member it is addressed to, the actor's included.</summary>
    public IReadOnlyList<string[]> Recipients { get; } = recipients ?? [];

    /// <summary>The state changed exactly when events were emitted.</summary>
    public bool Changed => Events.Count > 0;

    public string? RejectionCode => (Reply as CommandRejected)?.Code;
}
