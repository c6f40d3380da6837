namespace Messaging.Edge.Sockets;

/// <summary>
/// Per connection, the highest seq per chat this device may acknowledge without asking the read
/// models: seqs pushed to it live (the Router listed it as a recipient) and limits already read
/// from <c>chat_members</c>/<c>chats</c>. It exists because the live path is ahead of the
/// projections: a client acks a pushed message before the chat projection has advanced
/// <c>chats.last_seq</c> past it, so checking the read model alone would refuse ordinary acks.
/// It also turns the common ack (of what was just pushed) into no database query at all.
/// Bounded: when full it is cleared (a miss costs one indexed lookup), so an idle socket holds
/// nothing and a busy one at most <c>Edge:AckableChatsPerConnection</c> entries.
/// </summary>
internal sealed class AckableSeqs(int capacity)
{
    private readonly Lock _gate = new();
    private Dictionary<string, long>? _upTo;

    /// <summary>True when <paramref name="seq"/> of <paramref name="chatId"/> is known to be ackable.</summary>
    public bool Covers(string chatId, long seq)
    {
        lock (_gate)
        {
            return _upTo is not null && _upTo.TryGetValue(chatId, out var upTo) && seq <= upTo;
        }
    }

    /// <summary>Records that seqs up to <paramref name="upTo"/> of <paramref name="chatId"/> are ackable.</summary>
    public void Note(string chatId, long upTo)
    {
        lock (_gate)
        {
            _upTo ??= new Dictionary<string, long>(StringComparer.Ordinal);
            if (_upTo.TryGetValue(chatId, out var known))
            {
                if (upTo > known)
                {
                    _upTo[chatId] = upTo;
                }

                return;
            }

            if (_upTo.Count >= capacity)
            {
                _upTo.Clear();
            }

            _upTo[chatId] = upTo;
        }
    }
}
