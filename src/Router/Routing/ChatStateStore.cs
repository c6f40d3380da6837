using Messaging.Router.Chats;

namespace Messaging.Router.Routing;

/// <summary>The states of the chats in the <c>chat.commands</c> partitions this instance owns, per partition.</summary>
public sealed class ChatStateStore
{
    private readonly Dictionary<int, Dictionary<string, ChatState>> _partitions = [];

    public IReadOnlyCollection<int> Partitions => _partitions.Keys;

    public int ChatCount
    {
        get
        {
            var count = 0;
            foreach (var chats in _partitions.Values)
            {
                count += chats.Count;
            }

            return count;
        }
    }

    public void Load(int partition, Dictionary<string, ChatState> chats) => _partitions[partition] = chats;

    public void Drop(int partition) => _partitions.Remove(partition);

    public void Clear() => _partitions.Clear();

    public bool TryGetPartition(int partition, out Dictionary<string, ChatState> chats) =>
        _partitions.TryGetValue(partition, out chats!);
}
