using Messaging.Contracts.Commands;
using Messaging.Contracts.Events;

namespace Messaging.Router.Chats;

/// <summary>A member of a chat as the Router tracks it.</summary>
public sealed class ChatMemberState(string userId, MemberRole role, long joinedSeq)
{
    public string UserId { get; } = userId;

    public MemberRole Role { get; internal set; } = role;

    /// <summary>Seq of the event that made this user a member (ties broken by list order).</summary>
    public long JoinedSeq { get; } = joinedSeq;
}

/// <summary>Where an accepted send landed, kept to answer client retries.</summary>
public readonly record struct SentMessage(long Seq, string MessageId);

/// <summary>
/// Everything the Router needs to decide a chat's next command. Owned by one Router instance at a
/// time (the owner of the chat's partition) and mutated in place by <see cref="ChatDecider"/>:
/// copying member lists per message would make a send O(members) in allocations, and a failed
/// batch never reuses in-memory state anyway (the loop reloads it from <c>chat.state</c>).
/// </summary>
public sealed class ChatState
{
    // Join order: the first member is the longest-standing one (promoted when the last admin leaves).
    private readonly List<ChatMemberState> _members = [];
    private readonly Dictionary<string, ChatMemberState> _byUser = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SentMessage> _recent = new(StringComparer.Ordinal);
    private readonly Queue<string> _recentOrder = new();

    public ChatState(string chatId, ChatKind kind, string? title)
    {
        ChatId = chatId;
        Kind = kind;
        Title = title;
    }

    public string ChatId { get; }

    public ChatKind Kind { get; }

    public string? Title { get; }

    /// <summary>Seq of the chat's latest event (0 before <c>ChatCreated</c>).</summary>
    public long LastSeq { get; private set; }

    public long NextSeq => LastSeq + 1;

    /// <summary>
    /// Offset (in the chat's <c>chat.commands</c> partition) of the last command that changed this
    /// state; commands at or below it were already applied (the state can be newer than the
    /// committed offset after a crash between the state write and the commit).
    /// </summary>
    public long LastCommandOffset { get; internal set; } = -1;

    /// <summary>Members in join order.</summary>
    public IReadOnlyList<ChatMemberState> Members => _members;

    public int AdminCount { get; private set; }

    public int RecentCount => _recent.Count;

    public bool IsMember(string userId) => _byUser.ContainsKey(userId);

    public bool TryGetMember(string userId, out ChatMemberState member) => _byUser.TryGetValue(userId, out member!);

    public bool TryGetRecent(string clientMsgId, out SentMessage sent) => _recent.TryGetValue(clientMsgId, out sent);

    /// <summary>Recent sends, oldest first (for the snapshot).</summary>
    public IEnumerable<KeyValuePair<string, SentMessage>> RecentSends()
    {
        foreach (var clientMsgId in _recentOrder)
        {
            yield return new(clientMsgId, _recent[clientMsgId]);
        }
    }

    internal long TakeSeq() => ++LastSeq;

    internal void RestoreSeq(long lastSeq) => LastSeq = lastSeq;

    internal void AddMember(string userId, MemberRole role, long joinedSeq)
    {
        var member = new ChatMemberState(userId, role, joinedSeq);
        _members.Add(member);
        _byUser.Add(userId, member);
        if (role == MemberRole.Admin)
        {
            AdminCount++;
        }
    }

    internal void RemoveMember(ChatMemberState member)
    {
        _byUser.Remove(member.UserId);
        _members.Remove(member);
        if (member.Role == MemberRole.Admin)
        {
            AdminCount--;
        }
    }

    internal void MakeAdmin(ChatMemberState member)
    {
        if (member.Role != MemberRole.Admin)
        {
            member.Role = MemberRole.Admin;
            AdminCount++;
        }
    }

    /// <summary>Remembers a send for de-duplication, forgetting the oldest beyond <paramref name="capacity"/>.</summary>
    internal void Remember(string clientMsgId, SentMessage sent, int capacity)
    {
        if (capacity <= 0 || !_recent.TryAdd(clientMsgId, sent))
        {
            return;
        }

        _recentOrder.Enqueue(clientMsgId);
        while (_recentOrder.Count > capacity)
        {
            _recent.Remove(_recentOrder.Dequeue());
        }
    }
}
