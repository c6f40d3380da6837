using Messaging.Contracts.Protocol;

namespace Messaging.Client;

/// <summary>Receipts, typing and settings (issue 11; docs/protocol.md, "Receipts and typing").</summary>
public sealed partial class ChatClient
{
    /// <summary>Marks everything in <paramref name="chatId"/> up to <paramref name="seq"/> read (cumulative, no reply).</summary>
    public Task ReadAsync(string chatId, long seq, CancellationToken cancellationToken = default) =>
        SendAsync(new ReadFrame { ChatId = chatId, Seq = seq }, cancellationToken);

    /// <summary>
    /// Tells the other members this user started (<paramref name="typing"/> true) or stopped typing.
    /// While typing, send it again before the <c>expiresInMs</c> of the pushes runs out.
    /// </summary>
    public Task TypingAsync(string chatId, bool typing, CancellationToken cancellationToken = default) =>
        SendAsync(new TypingFrame { ChatId = chatId, State = typing ? ConversationStates.Started : ConversationStates.Stopped }, cancellationToken);

    /// <summary>Turns the user's read receipts on or off (all of the user's devices); returns the settings now in force.</summary>
    public Task<SettingsFrame> SetReadReceiptsAsync(bool on, CancellationToken cancellationToken = default) =>
        RequestAsync<SettingsFrame>(new SetSettingsFrame { ReadReceipts = on }, cancellationToken);
}

/// <summary>
/// A sender's view of receipts: the highest delivered and read seq per chat and user, from
/// <see cref="ReceiptFrame"/>s (cumulative, so duplicates and frames from several nodes merge by
/// maximum). Counts users, not frames or devices. Not thread-safe.
/// </summary>
public sealed class ReceiptBook
{
    private readonly Dictionary<(string ChatId, string State), Dictionary<string, long>> _positions = [];

    public void Apply(ReceiptFrame frame)
    {
        if (!_positions.TryGetValue((frame.ChatId, frame.State), out var users))
        {
            _positions[(frame.ChatId, frame.State)] = users = new Dictionary<string, long>(StringComparer.Ordinal);
        }

        foreach (var receipt in frame.Receipts)
        {
            if (!users.TryGetValue(receipt.UserId, out var known) || receipt.Seq > known)
            {
                users[receipt.UserId] = receipt.Seq;
            }
        }
    }

    /// <summary>How many users reached <paramref name="seq"/> in <paramref name="state"/> (<see cref="ConversationStates"/>).</summary>
    public int Count(string chatId, string state, long seq)
    {
        if (!_positions.TryGetValue((chatId, state), out var users))
        {
            return 0;
        }

        var count = 0;
        foreach (var position in users.Values)
        {
            if (position >= seq)
            {
                count++;
            }
        }

        return count;
    }

    /// <summary>The highest seq <paramref name="userId"/> reached in <paramref name="state"/>, 0 when none.</summary>
    public long PositionOf(string chatId, string state, string userId) =>
        _positions.TryGetValue((chatId, state), out var users) && users.TryGetValue(userId, out var seq) ? seq : 0;
}

/// <summary>
/// Who is typing, per chat, from <see cref="TypingPushFrame"/>s: a <c>started</c> holds until its
/// <c>expiresInMs</c> runs out or a <c>stopped</c> arrives (a typist whose connection dropped sends
/// none). Not thread-safe.
/// </summary>
public sealed class TypingBoard
{
    private readonly Dictionary<(string ChatId, string UserId), DateTimeOffset> _until = [];

    public void Apply(TypingPushFrame frame, DateTimeOffset now)
    {
        if (frame.State == ConversationStates.Started)
        {
            _until[(frame.ChatId, frame.UserId)] = now.AddMilliseconds(frame.ExpiresInMs);
        }
        else
        {
            _until.Remove((frame.ChatId, frame.UserId));
        }
    }

    /// <summary>The users typing in <paramref name="chatId"/> at <paramref name="now"/>, in ordinal order.</summary>
    public IReadOnlyList<string> TypingIn(string chatId, DateTimeOffset now)
    {
        var users = new List<string>();
        foreach (var ((chat, user), until) in _until)
        {
            if (chat == chatId && until > now)
            {
                users.Add(user);
            }
        }

        users.Sort(StringComparer.Ordinal);
        return users;
    }
}
