using Messaging.Contracts;
using Messaging.Contracts.Protocol;
using Messaging.Edge.Presence;
using Messaging.Edge.Sockets;
using Messaging.IntegrationTests.Harness;
using Microsoft.Extensions.DependencyInjection;
using static Messaging.IntegrationTests.Edge.EdgeHost;

namespace Messaging.IntegrationTests.EndToEnd;

/// <summary>
/// Issue 8, defect 1: device ids were global, so user B connecting with device id <c>phone</c>
/// closed user A's <c>phone</c> socket (4002), B's <c>sync</c> streamed A's messages and B's acks
/// deleted them. Here A and B both call their device <c>phone</c>, on two Edge nodes and on one,
/// through the whole system (two Edge nodes, Router, Projections, real sockets).
/// </summary>
public sealed class SameDeviceIdOfTwoUsersTests : IAsyncLifetime
{
    private const string Phone = "phone";
    private const int Messages = 3;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private ChatSystem _system = null!;

    public async Task InitializeAsync() => _system = await ChatSystem.StartAsync(edgeNodes: 2);

    public async Task DisposeAsync() => await _system.DisposeAsync();

    [Theory]
    [InlineData(1)]
    [InlineData(0)]
    public async Task Users_who_both_call_their_device_phone_have_two_devices_for_sockets_delivery_sync_acks_and_presence(int boNode)
    {
        var (ana, bo, cy) = (NextId("ana"), NextId("bo"), NextId("cy"));
        var anaPhone = await _system.ConnectAsync(0, ana, Phone);
        var cyPhone = await _system.ConnectAsync(1, cy, Phone);
        var boPhone = await _system.ConnectAsync(boNode, bo, Phone);

        // Node 0 has read bo's session (the record CrossNodeReplacement reacts to) and ana's socket is still there.
        var node0 = _system.Edges[0].Services;
        await Eventually.TrueAsync(
            () => Task.FromResult(node0.GetRequiredService<PresenceDirectory>().Snapshot(bo, DateTimeOffset.UtcNow).DevicesOnline == 1),
            Timeout,
            "node 0 to read bo's session");
        (await anaPhone.PingAsync()).Should().NotBeNull("bo's phone is not ana's phone: ana's socket stays open");
        anaPhone.Closed.IsCompleted.Should().BeFalse();
        node0.GetRequiredService<ConnectionRegistry>().TryGet(DeviceRef.AddressOf(ana, Phone), out var anaSocket).Should().BeTrue();
        anaSocket.IsClosing.Should().BeFalse();

        // A chat of ana and cy (bo is no member): cy's messages reach ana's phone live.
        var chatId = await anaPhone.CreateChatAsync([cy], "ana and cy");
        var sent = new List<string>();
        for (var i = 1; i <= Messages; i++)
        {
            var accepted = await cyPhone.SendMessageAsync(chatId, "for ana " + i);
            (await anaPhone.WaitForAsync<MessageFrame>(m => m.MessageId == accepted.MessageId, Timeout)).Body.Should().Be("for ana " + i);
            sent.Add(accepted.MessageId);
        }

        // ... and are in the chat's history, which is ana's and cy's, never bo's.
        await Eventually.TrueAsync(
            async () => await _system.CountAsync("select count(*) from messages where chat_id = $1 and kind = 'message'", chatId) == Messages,
            Timeout,
            "cy's messages in the chat's history");

        var boSync = await boPhone.SyncAsync();
        boSync.Frames.Should().BeEmpty("bo is in no chat; ana's messages are not his");
        boSync.Count.Should().Be(0);

        // bo acks ana's chat (as the old inbox let him), then his own chat as a marker: acks of one
        // device are on one device.acks partition, in order, so once the marker is applied so is the first.
        await boPhone.AckAsync(chatId, long.MaxValue / 2);
        var boChat = await cyPhone.CreateChatAsync([bo], "cy and bo");
        var toBo = await cyPhone.SendMessageAsync(boChat, "for bo");
        var atBo = await boPhone.WaitForAsync<MessageFrame>(m => m.MessageId == toBo.MessageId, Timeout);
        await boPhone.AckAsync(boChat, atBo.Seq);
        await Eventually.TrueAsync(
            async () => await _system.CountAsync("select count(*) from device_cursors where user_id = $1 and device_id = $2 and chat_id = $3 and acked_seq = $4", bo, Phone, boChat, atBo.Seq) == 1,
            Timeout,
            "bo's own ack applied");

        (await _system.CountAsync("select count(*) from device_cursors where user_id = $1 and chat_id = $2", ana, chatId)).Should().Be(0, "bo's ack is not ana's");
        var anaSync = await anaPhone.SyncAsync();
        anaSync.Messages.Where(m => m.ChatId == chatId).Select(m => m.MessageId).Distinct().Should().BeEquivalentTo(sent);

        // Presence: one device of ana online, though two devices called "phone" are.
        // cy's node 1 learns ana's session on node 0 from device.sessions.
        var anaPresence = (await Eventually.ReturnsAsync(() => cyPhone.GetPresenceAsync([ana]), p => p.Count == 1 && p[0].Online, Timeout, "node 1 to read ana's session"))
            .Should().ContainSingle().Subject;
        anaPresence.Should().BeEquivalentTo(new { UserId = ana, Online = true, DevicesOnline = 1 });
        await boPhone.CloseAsync();
        await Eventually.TrueAsync(async () => !(await cyPhone.GetPresenceAsync([bo]))[0].Online, Timeout, "bo offline");
        (await cyPhone.GetPresenceAsync([ana]))[0].Should().BeEquivalentTo(new { Online = true, DevicesOnline = 1 }, "bo's phone leaving is not ana's");

        // Nothing of ana's chat was ever pushed to bo's phone.
        var boFrames = new List<ServerFrame>();
        while (boPhone.Frames.TryRead(out var frame))
        {
            boFrames.Add(frame);
        }

        boFrames.OfType<MessageFrame>().Should().NotContain(m => m.ChatId == chatId);
        boFrames.OfType<ChatUpdatedFrame>().Should().NotContain(u => u.ChatId == chatId);
    }
}
