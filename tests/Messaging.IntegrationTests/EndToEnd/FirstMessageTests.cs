using Messaging.Contracts.Protocol;

namespace Messaging.IntegrationTests.EndToEnd;

/// <summary>Issue 2's slice through the whole system: two Edge nodes, Router, Projections, real sockets.</summary>
public sealed class FirstMessageTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private ChatSystem _system = null!;

    public async Task InitializeAsync() => _system = await ChatSystem.StartAsync(edgeNodes: 2);

    public async Task DisposeAsync() => await _system.DisposeAsync();

    [Fact]
    public async Task Message_sent_on_one_edge_node_reaches_the_other_node_and_the_sending_device()
    {
        var (ana, bo) = (Unique("ana"), Unique("bo"));
        var anaPhone = await _system.ConnectAsync(0, ana, ana + "-phone");
        var boLaptop = await _system.ConnectAsync(1, bo, bo + "-laptop");

        var chatId = await anaPhone.CreateChatAsync([bo], "Trip");
        var accepted = await anaPhone.SendMessageAsync(chatId, "hello bo");

        var atBo = await boLaptop.WaitForAsync<MessageFrame>(m => m.ChatId == chatId, Timeout);
        atBo.Body.Should().Be("hello bo");
        atBo.MessageId.Should().Be(accepted.MessageId);
        atBo.Sender.UserId.Should().Be(ana);
        atBo.Sender.DeviceId.Should().Be(ana + "-phone");
        var atAna = await anaPhone.WaitForAsync<MessageFrame>(m => m.MessageId == accepted.MessageId, Timeout);
        atAna.Seq.Should().Be(atBo.Seq, "the sending device learns the seq the Router assigned");
    }

    [Fact]
    public async Task Offline_device_gets_missed_messages_through_sync_in_order_and_nothing_more_after_its_ack()
    {
        var (ana, bo) = (Unique("ana"), Unique("bo"));
        var boDevice = bo + "-phone";
        var anaPhone = await _system.ConnectAsync(0, ana, ana + "-phone");
        var boFirst = await _system.ConnectAsync(1, bo, boDevice);
        var chatId = await anaPhone.CreateChatAsync([bo], "Offline");
        await boFirst.WaitForAsync<ChatUpdatedFrame>(u => u.ChatId == chatId, Timeout);
        await boFirst.CloseAsync();

        for (var i = 1; i <= 3; i++)
        {
            await anaPhone.SendMessageAsync(chatId, "missed " + i);
        }

        // Decided while bo was offline (accepted only means the command is in the log): the sync,
        // not a live push to the reconnected device, is what brings them.
        await Harness.Eventually.TrueAsync(
            async () => await _system.CountAsync("select count(*) from messages where chat_id = $1 and kind = 'message'", chatId) == 3,
            Timeout,
            "the three messages in the chat's history");


        var boAgain = await _system.ConnectAsync(0, bo, boDevice);
        var synced = await boAgain.SyncAsync();

        var messages = synced.Messages.Where(m => m.ChatId == chatId).ToList();
        messages.Select(m => m.Body).Should().Equal("missed 1", "missed 2", "missed 3");
        messages.Select(m => m.Seq).Should().BeInAscendingOrder();

        await boAgain.AckAsync(chatId, messages[^1].Seq);
        await Harness.Eventually.TrueAsync(
            async () => await _system.CountAsync("select count(*) from device_cursors where user_id = $1 and device_id = $2 and chat_id = $3 and acked_seq = $4", bo, boDevice, chatId, messages[^1].Seq) == 1,
            Timeout,
            "the device's cursor at its ack");
        (await boAgain.SyncAsync()).Frames.Should().BeEmpty("everything up to the ack is acknowledged");
    }

    private static string Unique(string name) => name + "-" + Guid.NewGuid().ToString("N")[..6];
}
