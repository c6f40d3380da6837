using Messaging.Contracts;
using Messaging.Contracts.Protocol;
using Messaging.Edge.Sockets;
using Microsoft.Extensions.DependencyInjection;
using static Messaging.IntegrationTests.Edge.EdgeHost;

namespace Messaging.IntegrationTests.Edge;

/// <summary>Frames go through ManagedWebSocket and Kestrel's output pipe, as before pushes went straight to the socket.</summary>
public sealed class QueuedWritesEdgeHost : EdgeHost
{
    protected override void Configure(Dictionary<string, string?> settings) => settings["Edge:DirectSocketWrites"] = "false";
}

/// <summary>Pushes written straight to the TCP socket (<c>Edge:DirectSocketWrites</c>, the default) on a real WebSocket.</summary>
public sealed class EdgeDirectSocketWriteTests(EdgeHost edge) : IClassFixture<EdgeHost>
{
    [Fact]
    public Task Pushes_go_straight_to_the_socket_and_arrive_whole_and_in_order_with_replies_between_them() =>
        SocketWrites.PushesArriveInOrderAsync(edge, expectDirect: true);
}

/// <summary>The same pushes with <c>Edge:DirectSocketWrites</c> off.</summary>
public sealed class EdgeQueuedSocketWriteTests(QueuedWritesEdgeHost edge) : IClassFixture<QueuedWritesEdgeHost>
{
    [Fact]
    public Task Pushes_go_through_the_send_loop_and_arrive_whole_and_in_order_with_replies_between_them() =>
        SocketWrites.PushesArriveInOrderAsync(edge, expectDirect: false);
}

internal static class SocketWrites
{
    private const int Messages = 60;

    /// <summary>
    /// Small and 60 KB pushes alternate (a big one may not fit the socket's buffer at once, so
    /// later ones must wait behind its rest), with ping replies between them: every push arrives
    /// whole and in seq order, and every ping is answered.
    /// </summary>
    public static async Task PushesArriveInOrderAsync(EdgeHost edge, bool expectDirect)
    {
        var user = NextId("u");
        var device = NextId("phone");
        var client = await edge.ConnectAsync(user, device);
        var registry = edge.Host.Services.GetRequiredService<ConnectionRegistry>();
        registry.TryGet(DeviceRef.AddressOf(user, device), out var connection).Should().BeTrue();
        connection!.WritesDirectly.Should().Be(expectDirect);

        var chatId = NextId("chat");
        var big = new string('b', 60_000);
        var pings = new List<Task>();
        for (var seq = 1; seq <= Messages; seq++)
        {
            await edge.DeliverAsync(EdgeBackpressureTests.Routed(chatId, seq, seq % 2 == 0 ? big : "small", DeviceRef.AddressOf(user, device)), chatId);
            if (seq % 10 == 0)
            {
                pings.Add(client.PingAsync());
            }
        }

        for (var seq = 1; seq <= Messages; seq++)
        {
            var message = await client.WaitForAsync<MessageFrame>(m => m.ChatId == chatId, Wait);
            message.Seq.Should().Be(seq);
            message.Body.Should().Be(seq % 2 == 0 ? big : "small");
        }

        await Task.WhenAll(pings).WaitAsync(Wait);
    }
}
