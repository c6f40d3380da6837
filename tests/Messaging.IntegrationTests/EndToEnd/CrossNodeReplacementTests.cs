using System.Net.WebSockets;
using Messaging.Contracts.Protocol;

namespace Messaging.IntegrationTests.EndToEnd;

/// <summary>One live socket per device across Edge nodes.</summary>
public sealed class CrossNodeReplacementTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private ChatSystem _system = null!;

    public async Task InitializeAsync() => _system = await ChatSystem.StartAsync(edgeNodes: 2);

    public async Task DisposeAsync() => await _system.DisposeAsync();

    [Fact]
    public async Task A_device_connecting_on_another_node_closes_its_older_socket_with_replaced_and_keeps_receiving()
    {
        var ana = "ana-" + Guid.NewGuid().ToString("N")[..6];
        var bo = "bo-" + Guid.NewGuid().ToString("N")[..6];
        var older = await _system.ConnectAsync(0, ana, ana + "-phone");
        var newer = await _system.ConnectAsync(1, ana, ana + "-phone");

        (await older.Closed.WaitAsync(Timeout)).Should().Be((WebSocketCloseStatus)CloseCodes.Replaced);
        newer.State.Should().Be(WebSocketState.Open);

        // The replaced socket wrote no offline record: the device is still routed to its new node.
        var boPhone = await _system.ConnectAsync(0, bo, bo + "-phone");
        var chatId = await boPhone.CreateChatAsync([ana], "after the move");
        var sent = await boPhone.SendMessageAsync(chatId, "still there?");
        var got = await newer.WaitForAsync<MessageFrame>(m => m.MessageId == sent.MessageId, Timeout);
        got.Body.Should().Be("still there?");
    }
}
