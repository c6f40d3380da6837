using System.Globalization;

namespace Messaging.Bench.Components;

/// <summary>
/// The shape of the Projections benchmark's pre-filled <c>chat.events</c>: <see cref="Chats"/>
/// groups of <see cref="RecipientsPerEvent"/> users with one device each; event i belongs to chat
/// i mod Chats with seq i / Chats + 1, so the first Chats events are the ChatCreated ones and every
/// chat's seqs are dense and in log order (one producer, one partition per chat).
/// </summary>
public sealed record EventBacklogPlan
{
    public long Events { get; init; } = 1_000_000;

    public int Chats { get; init; } = 1000;

    public int RecipientsPerEvent { get; init; } = 10;

    public int BodyBytes { get; init; } = 60;

    /// <summary>Inbox rows a full apply creates: one per recipient device of every event (no acks are pre-filled).</summary>
    public long InboxRows => Events * RecipientsPerEvent;

    public string? Validate()
    {
        if (Chats <= 0 || RecipientsPerEvent <= 0 || BodyBytes <= 0)
        {
            return "--chats, --recipients and --body-bytes must be positive";
        }

        return Events < Chats ? $"--events ({Events}) must be at least --chats ({Chats}): every chat starts with its ChatCreated" : null;
    }

    public static string ChatId(int chat) => "p" + chat.ToString(CultureInfo.InvariantCulture);

    public static string UserId(int chat, int member) =>
        ChatId(chat) + "-u" + member.ToString(CultureInfo.InvariantCulture);

    public static string DeviceId(int chat, int member) => UserId(chat, member) + "-d0";

    /// <summary>Event <paramref name="index"/>: its chat and its seq (1 is ChatCreated).</summary>
    public (int Chat, long Seq) At(long index) => ((int)(index % Chats), (index / Chats) + 1);

    /// <summary>Events that land in a chat.</summary>
    public long EventsIn(int chat) => (Events / Chats) + (chat < Events % Chats ? 1 : 0);
}
