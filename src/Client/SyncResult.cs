using Messaging.Contracts.Protocol;

namespace Messaging.Client;

/// <summary>What a <c>sync</c> streamed: <c>message</c> and <c>chat.updated</c> frames in (chat, seq) order.</summary>
public sealed record SyncResult(IReadOnlyList<ServerFrame> Frames, int Count)
{
    public IEnumerable<MessageFrame> Messages => Frames.OfType<MessageFrame>();
}
