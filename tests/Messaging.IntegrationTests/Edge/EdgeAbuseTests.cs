using System.Net;
using System.Net.WebSockets;
using System.Text.Json;
using Messaging.Contracts;
using Messaging.Contracts.Protocol;
using Messaging.Edge.Sockets;
using Messaging.IntegrationTests.Harness;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;
using static Messaging.IntegrationTests.Edge.EdgeHost;

namespace Messaging.IntegrationTests.Edge;

/// <summary>
/// Rate limits and byte budgets set explicitly (TestStack turns the limits off for every other
/// test): sends at the production defaults (burst 100, 20/s), small HTTP budgets, and a 256 KiB
/// send-queue budget with 16 KiB bodies so a slow reader trips the byte bound long before the
/// 1,024-frame bound.
/// </summary>
public sealed class LimitedEdgeHost : EdgeHost
{
    public const int SendBurst = 100;
    public const int QueueBudget = 256 * 1024;

    protected override void Configure(Dictionary<string, string?> settings)
    {
        settings["RateLimits:Sends:Burst"] = SendBurst.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["RateLimits:Sends:PerSecond"] = "20";
        settings["RateLimits:TokensPerIp:Burst"] = "3";
        settings["RateLimits:TokensPerIp:PerSecond"] = "0.01";
        settings["RateLimits:ConnectionsPerUser:Burst"] = "3";
        settings["RateLimits:ConnectionsPerUser:PerSecond"] = "0.01";
        settings["Edge:MaxBodyBytes"] = "16384";
        settings["Edge:MaxQueuedBytesPerConnection"] = QueueBudget.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Edge:SyncQueueBytes"] = "65536";
        settings["Edge:SendQueueCapacity"] = "1024";
        settings["Edge:CloseTimeoutSeconds"] = "60";
    }
}

public sealed class EdgeAbuseTests(LimitedEdgeHost edge, ITestOutputHelper output) : IClassFixture<LimitedEdgeHost>
{
    [Fact]
    public async Task A_device_sending_past_its_budget_gets_rate_limited_with_retry_after_and_the_connection_stays_open_and_recovers()
    {
        // The measurement of issue 8: 1,000 sends pipelined in one burst from one device.
        const int burst = 1000;
        var user = NextId("u");
        var client = await edge.ConnectAsync(user, NextId("d"));
        var chatId = ChatIds.Direct(user, "peer");
        for (var i = 0; i < burst; i++)
        {
            await client.SendAsync(new SendMessageFrame { Id = "f" + i, ToUserId = "peer", ClientMsgId = "c" + i, Body = "flood " + i });
        }

        var accepted = 0;
        var limited = new List<ErrorFrame>();
        for (var i = 0; i < burst; i++)
        {
            var id = "f" + i;
            var reply = await client.WaitForAsync<ServerFrame>(f => f is MessageAcceptedFrame a && a.Id == id || f is ErrorFrame e && e.Id == id, Wait);
            if (reply is MessageAcceptedFrame)
            {
                accepted++;
            }
            else
            {
                limited.Add((ErrorFrame)reply);
            }
        }

        output.WriteLine($"1000-send burst from one device: {accepted} accepted, {limited.Count} rate_limited (burst {LimitedEdgeHost.SendBurst}, 20/s)");
        accepted.Should().BeGreaterThanOrEqualTo(LimitedEdgeHost.SendBurst);
        limited.Should().NotBeEmpty().And.OnlyContain(e => e.Code == ErrorCodes.RateLimited && e.RetryAfterMs > 0);
        client.State.Should().Be(WebSocketState.Open);

        // Waiting the advertised time is enough for the next send.
        await Task.Delay(TimeSpan.FromMilliseconds(limited[^1].RetryAfterMs!.Value));
        var after = await client.SendMessageAsync(chatId, "after the wait");
        after.ChatId.Should().Be(chatId);
        (await client.PingAsync()).Should().NotBeNull();
    }

    [Fact]
    public async Task The_rate_limited_error_frame_carries_retry_after_ms_on_the_wire()
    {
        var user = NextId("u");
        var client = await edge.ConnectAsync(user, NextId("d"));
        for (var i = 0; i < 3 * LimitedEdgeHost.SendBurst; i++)
        {
            await client.SendAsync(new SendMessageFrame { Id = "w" + i, ToUserId = "peer", ClientMsgId = "w" + i, Body = "x" });
        }

        var refused = await client.WaitForAsync<ErrorFrame>(e => e.Code == ErrorCodes.RateLimited, Wait);

        var json = JsonSerializer.Serialize<ServerFrame>(refused, Messaging.Contracts.Serialization.ContractsJsonContext.Default.ServerFrame);
        json.Should().Contain("\"retryAfterMs\":").And.Contain("\"code\":\"rate_limited\"");
    }

    [Fact]
    public async Task Token_requests_past_the_per_ip_budget_get_429_problem_details_with_retry_after()
    {
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? refused = null;
        for (var i = 0; i < 10 && refused is null; i++)
        {
            var response = await edge.HttpClient.PostAsync(
                new Uri(edge.Http, "/v1/dev/tokens"),
                new StringContent($$"""{"userId":"{{NextId("u")}}","deviceId":"d"}""", System.Text.Encoding.UTF8, "application/json"));
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                refused = response;
            }
            else
            {
                response.Dispose();
            }
        }

        statuses.Take(3).Should().OnlyContain(s => s == HttpStatusCode.OK);
        refused.Should().NotBeNull();
        using (refused)
        {
            refused!.Headers.RetryAfter.Should().NotBeNull();
            refused.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
            using var problem = JsonDocument.Parse(await refused.Content.ReadAsStringAsync());
            problem.RootElement.GetProperty("code").GetString().Should().Be(ErrorCodes.RateLimited);
            problem.RootElement.GetProperty("status").GetInt32().Should().Be(429);
        }

        // Other endpoints are not affected by the token budget.
        (await edge.ConnectAsync(NextId("u"), NextId("d"))).State.Should().Be(WebSocketState.Open);
    }

    [Fact]
    public async Task New_connections_of_one_user_past_the_budget_are_refused_with_429_before_the_upgrade()
    {
        var user = NextId("u");
        for (var i = 0; i < 3; i++)
        {
            await edge.ConnectAsync(user, "d" + i);
        }

        using var fourth = new ClientWebSocket();
        fourth.Options.CollectHttpResponseDetails = true;
        fourth.Options.SetRequestHeader("Authorization", "Bearer " + edge.Token(user, "d3"));
        var connect = () => fourth.ConnectAsync(edge.Ws, CancellationToken.None);
        await connect.Should().ThrowAsync<WebSocketException>();
        fourth.HttpStatusCode.Should().Be(HttpStatusCode.TooManyRequests);
        fourth.HttpResponseHeaders!.Should().ContainKey("Retry-After");

        // Another user is not affected.
        (await edge.ConnectAsync(NextId("u"), "d0")).State.Should().Be(WebSocketState.Open);
    }

    [Theory]
    [InlineData("ana/x", "phone")]
    [InlineData("ana:x", "phone")]
    [InlineData("ana", "ph one")]
    public async Task A_signed_token_whose_ids_break_the_id_rules_gets_no_socket(string userId, string deviceId)
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        socket.Options.SetRequestHeader("Authorization", "Bearer " + edge.Token(userId, deviceId));
        var connect = () => socket.ConnectAsync(edge.Ws, CancellationToken.None);
        await connect.Should().ThrowAsync<WebSocketException>();
        socket.HttpStatusCode.Should().Be(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_client_that_never_reads_is_closed_with_4003_before_the_node_holds_more_than_the_byte_budget()
    {
        var user = NextId("u");
        var deviceId = NextId("slow");
        var device = DeviceRef.AddressOf(user, deviceId);
        using var slow = new ClientWebSocket();
        slow.Options.SetRequestHeader("Authorization", "Bearer " + edge.Token(user, deviceId));
        await slow.ConnectAsync(edge.Ws, CancellationToken.None);
        var registry = edge.Host.Services.GetRequiredService<ConnectionRegistry>();
        var connection = await Eventually.ReturnsAsync(
            () => Task.FromResult(registry.TryGet(device, out var c) ? c : null),
            c => c is not null,
            Wait,
            "the slow socket registered");

        // 16 KiB bodies of '<', which JSON escapes to six bytes each: ~96 KiB per frame, so the
        // 256 KiB budget is passed after a few frames once the socket buffers are full, far below
        // the 1,024-frame bound.
        var chatId = NextId("chat");
        var body = new string('<', 16_000);
        var delivered = 0;
        for (var seq = 1; seq <= 2000 && connection!.CloseCode == 0; seq++)
        {
            await edge.DeliverAsync(EdgeBackpressureTests.Routed(chatId, seq, body, device), chatId);
            delivered++;
        }

        await Eventually.TrueAsync(() => Task.FromResult(connection!.CloseCode != 0), Wait, "the slow consumer being closed");
        connection!.CloseCode.Should().Be(CloseCodes.SlowConsumer);
        connection.Queue.PeakQueuedBytes.Should().BeLessThanOrEqualTo(LimitedEdgeHost.QueueBudget);
        connection.Queue.PeakQueuedBytes.Should().BeGreaterThan(LimitedEdgeHost.QueueBudget / 2, "the byte budget, not the frame count, closed it");
        output.WriteLine($"slow reader closed after {delivered} deliveries; peak queued {connection.Queue.PeakQueuedBytes} bytes of {LimitedEdgeHost.QueueBudget}");

        var buffer = new byte[256 * 1024];
        WebSocketReceiveResult result;
        do
        {
            result = await slow.ReceiveAsync(buffer, CancellationToken.None);
        }
        while (result.MessageType != WebSocketMessageType.Close);

        slow.CloseStatus.Should().Be((WebSocketCloseStatus)CloseCodes.SlowConsumer);
    }
}
