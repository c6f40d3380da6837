using System.Net.WebSockets;
using Messaging.Contracts;
using Messaging.Contracts.Delivery;
using Messaging.Contracts.Events;
using Messaging.Contracts.Protocol;
using Messaging.Edge.Sockets;
using Messaging.IntegrationTests.Harness;
using Microsoft.Extensions.DependencyInjection;
using static Messaging.IntegrationTests.Edge.EdgeHost;

namespace Messaging.IntegrationTests.Edge;

/// <summary>
/// A tiny send queue and a long close timeout, so a client that stops reading overflows it
/// quickly and can still read its close.
/// </summary>
public sealed class TinyQueueEdgeHost : EdgeHost
{
    protected override void Configure(Dictionary<string, string?> settings)
    {
        settings["Edge:SendQueueCapacity"] = "8";
        settings["Edge:CloseTimeoutSeconds"] = "60";
        settings["Auth:DevTokens"] = "false";
    }
}

public sealed class EdgeBackpressureTests(TinyQueueEdgeHost edge) : IClassFixture<TinyQueueEdgeHost>
{
    [Fact]
    public async Task A_client_that_never_reads_is_closed_with_4003_and_the_others_keep_getting_deliveries()
    {
        var slowUser = NextId("u");
        var slowDevice = NextId("slow");
        // The registry and the delivery records name a device by its address.
        var device = DeviceRef.AddressOf(slowUser, slowDevice);
        using var slow = new ClientWebSocket();
        slow.Options.SetRequestHeader("Authorization", "Bearer " + edge.Token(slowUser, slowDevice));
        await slow.ConnectAsync(edge.Ws, CancellationToken.None);
        var registry = edge.Host.Services.GetRequiredService<ConnectionRegistry>();
        await Eventually.TrueAsync(() => Task.FromResult(registry.TryGet(device, out _)), Wait, "the slow socket registered");
        var healthyUser = NextId("u");
        var healthyDevice = NextId("ok");
        var healthy = await edge.ConnectAsync(healthyUser, healthyDevice);

        // 60 KB messages: socket buffers fill first, then the 8-frame queue overflows.
        var chatId = NextId("chat");
        var body = new string('z', 60_000);
        for (var seq = 1; seq <= 400 && !Closing(registry, device); seq++)
        {
            await edge.DeliverAsync(Routed(chatId, seq, body, device), chatId);
        }

        await Eventually.TrueAsync(() => Task.FromResult(Closing(registry, device)), Wait, "the slow consumer being closed");

        // Once it reads, it gets what was already on the wire, then the close frame.
        var buffer = new byte[128 * 1024];
        WebSocketReceiveResult result;
        do
        {
            result = await slow.ReceiveAsync(buffer, CancellationToken.None);
        }
        while (result.MessageType != WebSocketMessageType.Close);

        slow.CloseStatus.Should().Be((WebSocketCloseStatus)CloseCodes.SlowConsumer);

        var other = NextId("chat");
        await edge.DeliverAsync(Routed(other, 1, "still flowing", DeviceRef.AddressOf(healthyUser, healthyDevice)), other);
        (await healthy.WaitForAsync<MessageFrame>(m => m.ChatId == other, Wait)).Body.Should().Be("still flowing");
    }

    [Fact]
    public async Task The_dev_token_endpoint_is_not_found_when_disabled()
    {
        using var response = await edge.HttpClient.PostAsync(
            new Uri(edge.Http, "/v1/dev/tokens"),
            new StringContent("""{"userId":"a","deviceId":"b"}""", System.Text.Encoding.UTF8, "application/json"));
        response.StatusCode.Should().Be(System.Net.HttpStatusCode.NotFound);
    }

    private static bool Closing(ConnectionRegistry registry, string address) =>
        !registry.TryGet(address, out var connection) || connection.CloseCode == CloseCodes.SlowConsumer;

    /// <summary>A routed message as the Router would put it on a node's delivery topic (also used by EdgeAbuseTests).</summary>
    internal static EventRouted Routed(string chatId, long seq, string body, params string[] devices) => new()
    {
        Devices = devices,
        Event = new MessageSent
        {
            ChatId = chatId,
            Seq = seq,
            Actor = new DeviceRef("sender", "sender-phone"),
            OccurredAt = DateTimeOffset.UtcNow,
            MessageId = Guid.CreateVersion7().ToString(),
            ClientMsgId = "c" + seq.ToString(System.Globalization.CultureInfo.InvariantCulture),
            Body = body,
        },
    };
}
