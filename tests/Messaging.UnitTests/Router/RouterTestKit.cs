using Messaging.Contracts;
using Messaging.Contracts.Commands;
using Messaging.Contracts.Devices;
using Messaging.Router.Chats;
using Messaging.Router.Directory;

namespace Messaging.UnitTests.Router;

/// <summary>An in-memory device directory: user → device addresses, device address → session.</summary>
internal sealed class FakeDirectory(int edgeNodes = 4) : IDeviceDirectory
{
    private readonly Dictionary<string, List<string>> _devices = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DeviceSessionChanged> _sessions = new(StringComparer.Ordinal);

    /// <summary>Registers the user's devices by their ids (unique only within the user).</summary>
    public FakeDirectory WithDevices(string userId, params string[] deviceIds)
    {
        _devices[userId] = [.. deviceIds.Select(d => DeviceRef.AddressOf(userId, d))];
        return this;
    }

    /// <summary>A session of the device at <paramref name="address"/> (<c>userId/deviceId</c>), the key of <c>device.sessions</c>.</summary>
    public FakeDirectory Online(string address, int node, DateTimeOffset? leaseUntil = null)
    {
        _sessions[address] = Session(address, node) with { LeaseUntil = leaseUntil };
        return this;
    }

    public FakeDirectory Offline(string address)
    {
        _sessions[address] = Session(address, null);
        return this;
    }

    public IReadOnlyList<string> AddressesOf(string userId) => _devices.TryGetValue(userId, out var list) ? list : [];

    public bool CatchUp(TimeSpan timeout, CancellationToken cancellationToken) => true;

    public int NodeOf(string address, DateTimeOffset now) =>
        _sessions.TryGetValue(address, out var s) ? SessionRules.NodeOf(s, null, now, edgeNodes) : -1;

    private static DeviceSessionChanged Session(string address, int? node)
    {
        DeviceRef.TryParse(address, out var device).Should().BeTrue($"{address} is a device address");
        return new DeviceSessionChanged
        {
            DeviceId = device.DeviceId,
            UserId = device.UserId,
            Node = node,
            SessionId = "s-" + address,
            ChangedAt = RouterTestKit.Now,
        };
    }
}

/// <summary>Command builders for the decider and processor tests.</summary>
internal static class RouterTestKit
{
    public static readonly DateTimeOffset Now = new(2025, 1, 2, 3, 4, 5, TimeSpan.Zero);
    private static int _ids;

    /// <summary>The user's phone: every user calls it <c>phone</c>, as real apps do; its address tells them apart.</summary>
    public static DeviceRef Phone(string userId) => new(userId, "phone");

    public static string NextId(string prefix) => prefix + Interlocked.Increment(ref _ids);

    public static CreateChat Group(string chatId, string by, string? title, params string[] members) => new()
    {
        CommandId = NextId("cmd-"),
        ChatId = chatId,
        Origin = Phone(by),
        OriginNode = 0,
        RequestId = NextId("req-"),
        IssuedAt = Now,
        Title = title,
        Members = members,
    };

    public static SendMessage Send(string chatId, string by, string? clientMsgId = null, string body = "hi", string? peer = null, DeviceRef? origin = null, int originNode = 0) => new()
    {
        CommandId = NextId("cmd-"),
        ChatId = chatId,
        Origin = origin ?? Phone(by),
        OriginNode = originNode,
        RequestId = NextId("req-"),
        IssuedAt = Now,
        ClientMsgId = clientMsgId ?? NextId("c-"),
        MessageId = NextId("m-"),
        Body = body,
        PeerUserId = peer,
    };

    public static AddMembers Add(string chatId, string by, params string[] users) => new()
    {
        CommandId = NextId("cmd-"),
        ChatId = chatId,
        Origin = Phone(by),
        OriginNode = 0,
        IssuedAt = Now,
        UserIds = users,
    };

    public static RemoveMember Remove(string chatId, string by, string user) => new()
    {
        CommandId = NextId("cmd-"),
        ChatId = chatId,
        Origin = Phone(by),
        OriginNode = 0,
        IssuedAt = Now,
        UserId = user,
    };

    public static LeaveChat Leave(string chatId, string by) => new()
    {
        CommandId = NextId("cmd-"),
        ChatId = chatId,
        Origin = Phone(by),
        OriginNode = 0,
        IssuedAt = Now,
    };

    public static MarkRead Read(string chatId, string by, long seq) => new()
    {
        CommandId = NextId("cmd-"),
        ChatId = chatId,
        Origin = Phone(by),
        OriginNode = 0,
        IssuedAt = Now,
        Seq = seq,
    };

    public static GrantAdmin Grant(string chatId, string by, string user) => new()
    {
        CommandId = NextId("cmd-"),
        ChatId = chatId,
        Origin = Phone(by),
        OriginNode = 0,
        IssuedAt = Now,
        UserId = user,
    };
}

/// <summary>One chat driven through the decider, the state carried from decision to decision.</summary>
internal sealed class ChatDriver(IDeviceLookup devices, ChatLimits? limits = null)
{
    public ChatLimits Limits { get; } = limits ?? new ChatLimits(MaxGroupMembers: 5, MaxBodyBytes: 16, RecentClientMsgIds: 3);

    public ChatState? State { get; set; }

    public long Offset { get; set; }

    public Decision Run(ChatCommand command)
    {
        var decision = ChatDecider.Decide(State, command, new DecideContext(Limits, devices, RouterTestKit.Now, Offset++));
        State = decision.State;
        return decision;
    }
}

internal sealed class FixedClock(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}
