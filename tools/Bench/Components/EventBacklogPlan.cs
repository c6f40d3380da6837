using System.Globalization;

namespace Messaging.Bench.Components;

/// <summary>
/// The shape of the Projections benchmark's pre-filled <c>chat.events</c>: <see cref="Chats"/>
/// groups of <see cref="Members"/> users with <see cref="DevicesPerMember"/> devices each; event i belongs to chat
/// i mod Chats with seq i / Chats + 1, so the first Chats events are the ChatCreated ones and every
/// chat's seqs are dense and in log order (one producer, one partition per chat).
/// </summary>
public sealed record EventBacklogPlan
{
    public long Events { get; init; } = 1_000_000;

    public int Chats { get; init; } = 1000;

    /// <summary>Members of each group: <c>chat_members</c> rows written once, by its ChatCreated.</summary>
    public int Members { get; init; } = 10;

    /// <summary>
    /// Devices of each member. Since chat.events v3 an event names no devices and the inbox writes
    /// nothing per device: this shapes nothing in the log and is recorded so that a run states the
    /// group it stands for (issue 10's target: 1,024 members × 2 devices at ≥ 80 % of groups of 10).
    /// </summary>
    public int DevicesPerMember { get; init; } = 1;

    public int BodyBytes { get; init; } = 60;

    /// <summary>Devices each message is addressed to: v2 events carried this many addresses, v3 none.</summary>
    public long RecipientDevices => (long)Members * DevicesPerMember;

    /// <summary><c>chat_members</c> rows a full apply creates (the only per-member rows; none per message).</summary>
    public long MembershipRows => (long)Math.Min(Chats, Events) * Members;

    public string? Validate()
    {
        if (Chats <= 0 || Members <= 0 || DevicesPerMember <= 0 || BodyBytes <= 0)
        {
            return "--chats, --members, --devices-per-member and --body-bytes must be positive";
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
