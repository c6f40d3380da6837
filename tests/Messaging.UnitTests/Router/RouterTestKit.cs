using Messaging.Contracts;
using Messaging.Contracts.Commands;
using Messaging.Contracts.Devices;
using Messaging.Router.Chats;
using Messaging.Router.Directory;

namespace Messaging.UnitTests.Router;

/// <summary>An in-memory device directory: user → devices, device → session.</summary>
internal sealed class FakeDirectory(int edgeNodes = 4) : IDeviceDirectory
{
    private readonly Dictionary<string, List<string>> _devices = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DeviceSessionChanged> _sessions = new(StringComparer.Ordinal);

    public FakeDirectory WithDevices(string userId, params string[] deviceIds)
    {
        _devices[userId] = [.. deviceIds];
        return this;
    }

    public FakeDirectory Online(string deviceId, int node, DateTimeOffset? leaseUntil = null)
    {
        _sessions[deviceId] = new DeviceSessionChanged
        {
            DeviceId = deviceId,
            UserId = "?",
            Node = node,
            SessionId = "s-" + deviceId,
            ChangedAt = RouterTestKit.Now,
            LeaseUntil = leaseUntil,
        };
        return this;
    }

    public FakeDirectory Offline(string deviceId)
    {
        _sessions[deviceId] = new DeviceSessionChanged
        {
            DeviceId = deviceId,
            UserId = "?",
            Node = null,
            SessionId = "s-" + deviceId,
            ChangedAt = RouterTestKit.Now,
        };
        return this;
    }

    public IReadOnlyList<string> DevicesOf(string userId) => _devices.TryGetValue(userId, out var list) ? list : [];

    public bool CatchUp(TimeSpan timeout, CancellationToken cancellationToken) => true;

    public int NodeOf(string deviceId, DateTimeOffset now) =>
        _sessions.TryGetValue(deviceId, out var s) ? SessionRules.NodeOf(s, now, edgeNodes) : -1;
}

/// <summary>Command builders for the decider and processor tests.</summary>
internal static class RouterTestKit
{
    public static readonly DateTimeOffset Now = new(2025, 1, 2, 3, 4, 5, TimeSpan.Zero);
    private static int _ids;

    public static DeviceRef Phone(string userId) => new(userId, userId + "-phone");

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
