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
/// One of the chat's recent messages, as the decider needs it: retries are answered by
/// <see cref="ClientMsgId"/>; edits, deletes, reactions and replies find it by
/// <see cref="MessageId"/> and check <see cref="Sender"/> and <see cref="SentAt"/> against the
/// windows (docs/router.md, "Recent messages"). <see cref="Sender"/> and <see cref="SentAt"/> are
/// null for an entry restored from a snapshot written before they were kept: such a message can
/// still be replied to, reacted to and deleted by an admin, not edited or deleted by its sender.
/// </summary>
public sealed class RecentMessage(string clientMsgId, long seq, string messageId, string? sender, DateTimeOffset? sentAt, bool encrypted)
{
    public string ClientMsgId { get; } = clientMsgId;

    public long Seq { get; } = seq;

    public string MessageId { get; } = messageId;

    public string? Sender { get; } = sender;

    public DateTimeOffset? SentAt { get; } = sentAt;

    /// <summary>Sent with per-device payloads: its edits must be too.</summary>
    public bool Encrypted { get; } = encrypted;

    /// <summary>Deleted for everyone: no edit, reaction or reply any more.</summary>
    public bool Deleted { get; internal set; }
}

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
    private readonly Dictionary<string, RecentMessage> _recent = new(StringComparer.Ordinal);
    private readonly Dictionary<string, RecentMessage> _byMessageId = new(StringComparer.Ordinal);
    private readonly Queue<RecentMessage> _recentOrder = new();

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

    public bool TryGetRecent(string clientMsgId, out SentMessage sent)
    {
        if (_recent.TryGetValue(clientMsgId, out var message))
        {
            sent = new SentMessage(message.Seq, message.MessageId);
            return true;
        }

        sent = default;
        return false;
    }

    /// <summary>A recent message by its id (edits, deletes, reactions, replies).</summary>
    public bool TryGetMessage(string messageId, out RecentMessage message) => _byMessageId.TryGetValue(messageId, out message!);

    /// <summary>
    /// A recent message by its id or, when the index no longer holds it, the message Edge found in
    /// the read model (<paramref name="facts"/>): believed only for a seq older than every indexed
    /// one and already taken, since any younger message would still be in the index.
    /// </summary>
    public bool TryGetMessage(string messageId, MessageFacts? facts, out RecentMessage message)
    {
        if (_byMessageId.TryGetValue(messageId, out message!))
        {
            return true;
        }

        if (facts is null || facts.Seq < 1 || facts.Seq > LastSeq || (_recentOrder.TryPeek(out var oldest) && facts.Seq >= oldest.Seq))
        {
            return false;
        }

        // Not remembered: the index keeps the newest messages only, and this one is older than all of them.
        message = new RecentMessage("", facts.Seq, messageId, facts.SenderUserId, facts.SentAt, facts.Encrypted) { Deleted = facts.Deleted };
        return true;
    }

    /// <summary>Recent sends, oldest first.</summary>
    public IEnumerable<KeyValuePair<string, SentMessage>> RecentSends()
    {
        foreach (var message in _recentOrder)
        {
            yield return new(message.ClientMsgId, new SentMessage(message.Seq, message.MessageId));
        }
    }

    /// <summary>Recent messages, oldest first (for the snapshot).</summary>
    public IEnumerable<RecentMessage> RecentMessages() => _recentOrder;

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
    internal void Remember(string clientMsgId, SentMessage sent, int capacity) =>
        Remember(new RecentMessage(clientMsgId, sent.Seq, sent.MessageId, null, null, false), capacity);

    /// <summary>Remembers a message for de-duplication and by id, forgetting the oldest beyond <paramref name="capacity"/>.</summary>
    internal void Remember(RecentMessage message, int capacity)
    {
        if (capacity <= 0 || !_recent.TryAdd(message.ClientMsgId, message))
        {
            return;
        }

        // Message ids are assigned by Edge (UUIDv7) and unique; a second entry under an id would be a forged command.
        _byMessageId.TryAdd(message.MessageId, message);
        _recentOrder.Enqueue(message);
        while (_recentOrder.Count > capacity)
        {
            var oldest = _recentOrder.Dequeue();
            _recent.Remove(oldest.ClientMsgId);
            if (_byMessageId.TryGetValue(oldest.MessageId, out var indexed) && ReferenceEquals(indexed, oldest))
            {
                _byMessageId.Remove(oldest.MessageId);
            }
        }
    }
}
