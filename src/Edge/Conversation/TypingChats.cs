namespace Messaging.Edge.Conversation;

/// <summary>
/// The chats where one device said <c>typing started</c> and has not said <c>stopped</c>, with
/// when, so the end of its session can send the <c>stopped</c> it never sent. Written by
/// concurrent frame handlers of the connection (one lock; a handful of entries: the typing rate
/// limit bounds how many chats one device can type in within the expiry).
/// </summary>
internal sealed class TypingChats
{
    private readonly Dictionary<string, DateTimeOffset> _started = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public void Note(string chatId, bool started, DateTimeOffset at)
    {
        lock (_lock)
        {
            if (started)
            {
                _started[chatId] = at;
            }
            else
            {
                _started.Remove(chatId);
            }
        }
    }

    /// <summary>The chats still shown as typing to others at <paramref name="now"/> (started less than <paramref name="expiry"/> ago); forgets them.</summary>
    public List<string> Active(DateTimeOffset now, TimeSpan expiry)
    {
        var active = new List<string>();
        lock (_lock)
        {
            foreach (var (chatId, at) in _started)
            {
                if (now - at < expiry)
                {
                    active.Add(chatId);
                }
            }

            _started.Clear();
        }

        active.Sort(StringComparer.Ordinal);
        return active;
    }
}
