using System.Globalization;

namespace Messaging.Bench.Components;

/// <summary>
/// The shape of the Router benchmark's backlog, as pure arithmetic so the expected output can be
/// checked against what the Router wrote: <see cref="Users"/> users with
/// <see cref="DevicesPerUser"/> devices each (the first <see cref="OnlineDevicesPerUser"/> online,
/// spread over <see cref="EdgeNodes"/> node topics, the rest offline), <see cref="Chats"/> groups of
/// <see cref="GroupSize"/> consecutive users (wrapping around), then <see cref="Sends"/> sends
/// dealt round-robin over the chats and, within a chat, over its members.
/// </summary>
public sealed record RouterBacklogPlan
{
    public int Chats { get; init; } = 1000;

    public int GroupSize { get; init; } = 10;

    public int Users { get; init; } = 1000;

    public int DevicesPerUser { get; init; } = 2;

    public int OnlineDevicesPerUser { get; init; } = 1;

    public int EdgeNodes { get; init; } = 4;

    public int Sends { get; init; } = 100_000;

    public int BodyBytes { get; init; } = 60;

    /// <summary>Every command of the backlog: one CreateChat per chat, then the sends.</summary>
    public long Commands => (long)Chats + Sends;

    /// <summary>Null when the plan is consistent, else what is wrong with it (in flag names).</summary>
    public string? Validate()
    {
        if (Chats <= 0 || GroupSize < 2 || Users <= 0 || DevicesPerUser <= 0 || EdgeNodes <= 0 || Sends < 0 || BodyBytes <= 0)
        {
            return "--chats, --users, --devices-per-user, --edge-nodes and --body-bytes must be positive, --group-size at least 2, --sends not negative";
        }

        if (GroupSize > Users)
        {
            return $"--group-size {GroupSize} needs at least as many --users (members of a group are distinct users)";
        }

        return OnlineDevicesPerUser < 0 || OnlineDevicesPerUser > DevicesPerUser
            ? $"--online-devices must be between 0 and --devices-per-user ({DevicesPerUser})"
            : null;
    }

    public static string UserId(int user) => "u" + user.ToString(CultureInfo.InvariantCulture);

    public static string DeviceId(int user, int device) =>
        UserId(user) + "-d" + device.ToString(CultureInfo.InvariantCulture);

    public static string ChatId(int chat) => "g" + chat.ToString(CultureInfo.InvariantCulture);

    /// <summary>Member <paramref name="index"/> of a chat (0 is its creator): consecutive users, so every user is in about Chats × GroupSize / Users chats.</summary>
    public int Member(int chat, int index) => (int)((((long)chat * GroupSize) + index) % Users);

    /// <summary>The node of a device, null for an offline one. Online devices rotate over the nodes so each chat spans several.</summary>
    public int? NodeOf(int user, int device) =>
        device < OnlineDevicesPerUser ? (int)((((long)user * OnlineDevicesPerUser) + device) % EdgeNodes) : null;

    /// <summary>Send <paramref name="index"/>: its chat and the member who sends it.</summary>
    public (int Chat, int Sender) Send(long index) =>
        ((int)(index % Chats), (int)(index / Chats % GroupSize));

    /// <summary>How many sends land in a chat.</summary>
    public long SendsTo(int chat) => (Sends / Chats) + (chat < Sends % Chats ? 1 : 0);

    /// <summary>Distinct nodes holding online devices of the chat's members: the Router writes one delivery record per such node per event.</summary>
    public int NodesOf(int chat)
    {
        var nodes = new HashSet<int>();
        for (var i = 0; i < GroupSize; i++)
        {
            var user = Member(chat, i);
            for (var d = 0; d < OnlineDevicesPerUser; d++)
            {
                if (NodeOf(user, d) is int node)
                {
                    nodes.Add(node);
                }
            }
        }

        return nodes.Count;
    }

    /// <summary>Delivery records the backlog must produce: per chat, its nodes × (ChatCreated + its sends).</summary>
    public long ExpectedDeliveryRecords()
    {
        long total = 0;
        for (var c = 0; c < Chats; c++)
        {
            total += NodesOf(c) * (1 + SendsTo(c));
        }

        return total;
    }
}
