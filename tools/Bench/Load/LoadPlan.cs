using System.Globalization;

namespace Messaging.Bench.Load;

/// <summary>A device the generator connects: <c>--devices-per-user</c> per user (one by default).</summary>
public sealed record PlannedDevice(int Index, string UserId, string DeviceId, int Edge);

/// <summary>A chat of the plan: its member devices (the first one creates it).</summary>
public sealed record PlannedChat(int Index, IReadOnlyList<int> Members, bool IsDirect);

/// <summary>Who sends next: message i of a step is sent by <c>SendSlots[i % SendSlots.Count]</c>.</summary>
public readonly record struct SendSlot(int Device, int Chat);

/// <summary>
/// The users, their Edge nodes and their chats for a scenario. Devices are spread round-robin over
/// the Edge nodes so that a group's members sit on different nodes and every message crosses nodes.
/// </summary>
public sealed class LoadPlan
{
    private LoadPlan(IReadOnlyList<PlannedDevice> devices, IReadOnlyList<PlannedChat> chats)
    {
        Devices = devices;
        Chats = chats;
        var memberships = new List<(int Chat, int Slot)>[devices.Count];
        for (var d = 0; d < devices.Count; d++)
        {
            memberships[d] = [];
        }

        foreach (var chat in chats)
        {
            for (var slot = 0; slot < chat.Members.Count; slot++)
            {
                memberships[chat.Members[slot]].Add((chat.Index, slot));
            }
        }

        var sendSlots = new List<SendSlot>();
        Memberships = new (int Chat, int Slot)[devices.Count][];
        for (var d = 0; d < devices.Count; d++)
        {
            Memberships[d] = [.. memberships[d]];
            foreach (var (chat, _) in memberships[d])
            {
                sendSlots.Add(new SendSlot(d, chat));
            }
        }

        SendSlots = sendSlots;
    }

    public IReadOnlyList<PlannedDevice> Devices { get; }

    public IReadOnlyList<PlannedChat> Chats { get; }

    /// <summary>Per device: the chats it is in and its member slot in each.</summary>
    public (int Chat, int Slot)[][] Memberships { get; }

    public IReadOnlyList<SendSlot> SendSlots { get; }

    /// <summary>
    /// The plan of a scenario. With <paramref name="devicesPerUser"/> n, user u owns devices
    /// u×n … u×n+n−1, dealt round-robin over the Edge nodes like every device, and a group holds
    /// every device of its users (every device gets every message). Direct chats need n = 1.
    /// With <paramref name="separateSenders"/> (groups only) each group also gets a sender user of
    /// its own, <c>{prefix}-s{g}</c> with one device, placed first (it creates the group): the
    /// <paramref name="users"/> are then all receivers (offline-catchup measures that many offline
    /// devices, issue 10's 1,000 × 1,000), and the senders come after them in <see cref="Devices"/>.
    /// </summary>
    public static LoadPlan Create(Scenario scenario, int users, int groupSize, int edges, string userPrefix, int devicesPerUser = 1, bool separateSenders = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(users, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(groupSize, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(edges, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(devicesPerUser, 1);
        if (scenario == Scenario.Direct && devicesPerUser != 1)
        {
            throw new ArgumentOutOfRangeException(nameof(devicesPerUser), devicesPerUser, "direct chats are planned with one device per user");
        }

        var devices = new PlannedDevice[users * devicesPerUser];
        for (var i = 0; i < devices.Length; i++)
        {
            var user = string.Create(CultureInfo.InvariantCulture, $"{userPrefix}-u{i / devicesPerUser}");
            devices[i] = new PlannedDevice(i, user, string.Create(CultureInfo.InvariantCulture, $"{user}-d{i % devicesPerUser}"), i % edges);
        }

        var chats = new List<PlannedChat>();
        switch (scenario)
        {
            case Scenario.Direct:
                // A ring: user i talks with user i+1, so every user is in two direct chats.
                var pairs = users == 2 ? 1 : users;
                for (var i = 0; i < pairs; i++)
                {
                    chats.Add(new PlannedChat(i, [i, (i + 1) % users], IsDirect: true));
                }

                break;
            case Scenario.Connect:
                break;
            default:
                for (var first = 0; first < users; first += groupSize)
                {
                    var size = Math.Min(groupSize, users - first);
                    if (size < 2)
                    {
                        // A lone leftover user joins the previous group rather than chat with nobody.
                        var last = chats[^1];
                        var leftover = new int[devicesPerUser];
                        for (var k = 0; k < devicesPerUser; k++)
                        {
                            leftover[k] = (first * devicesPerUser) + k;
                        }

                        chats[^1] = last with { Members = [.. last.Members, .. leftover] };
                        break;
                    }

                    var members = new int[size * devicesPerUser];
                    for (var m = 0; m < members.Length; m++)
                    {
                        members[m] = (first * devicesPerUser) + m;
                    }

                    chats.Add(new PlannedChat(chats.Count, members, IsDirect: false));
                }

                break;
        }

        if (!separateSenders || chats.Count == 0 || chats[0].IsDirect)
        {
            return new LoadPlan(devices, chats);
        }

        var withSenders = new PlannedDevice[devices.Length + chats.Count];
        devices.CopyTo(withSenders, 0);
        for (var g = 0; g < chats.Count; g++)
        {
            var index = devices.Length + g;
            var user = string.Create(CultureInfo.InvariantCulture, $"{userPrefix}-s{g}");
            withSenders[index] = new PlannedDevice(index, user, user + "-d0", index % edges);
            chats[g] = chats[g] with { Members = [index, .. chats[g].Members] };
        }

        return new LoadPlan(withSenders, chats);
    }
}
