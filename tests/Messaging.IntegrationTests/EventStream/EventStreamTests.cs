using System.Net;
using System.Text.Json;
using Messaging.Client;
using Messaging.Contracts.Protocol;
using Messaging.IntegrationTests.EndToEnd;
using Messaging.IntegrationTests.Harness;
using Messaging.IntegrationTests.Telemetry;

namespace Messaging.IntegrationTests.EventStream;

/// <summary>
/// The HTTP fallback at the protocol level (no browser): Server-Sent Events on <c>GET /v1/events</c>
/// and frames on <c>POST /v1/commands</c>, against two Edge nodes, the Router and the Projections.
/// </summary>
public sealed class EventStreamTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly List<EventStreamClient> _streams = [];
    private ChatSystem _system = null!;

    public async Task InitializeAsync() => _system = await ChatSystem.StartAsync(edgeNodes: 2);

    public async Task DisposeAsync()
    {
        foreach (var stream in _streams)
        {
            await stream.DisposeAsync();
        }

        await _system.DisposeAsync();
    }

    [Fact]
    public async Task A_device_on_the_event_stream_converses_with_a_websocket_device_on_the_other_node()
    {
        var (ana, bo) = (Unique("ana"), Unique("bo"));
        var anaWeb = await OpenAsync(0, ana, "web");
        var boPhone = await _system.ConnectAsync(1, bo, "phone");

        (await anaWeb.PostAsync(new CreateChatFrame { Id = "r1", Members = [bo], Title = "fallback" })).StatusCode.Should().Be(HttpStatusCode.Accepted);
        var chatId = (await anaWeb.WaitForAsync<ChatCreatedFrame>(f => f.Id == "r1", Timeout)).ChatId;
        await anaWeb.PostAsync(new SendMessageFrame { Id = "r2", ChatId = chatId, ClientMsgId = "c-1", Body = "over plain HTTP" });

        await anaWeb.WaitForAsync<MessageAcceptedFrame>(f => f.Id == "r2", Timeout);
        (await boPhone.WaitForAsync<MessageFrame>(m => m.ChatId == chatId, Timeout)).Body.Should().Be("over plain HTTP");
        var reply = await boPhone.SendMessageAsync(chatId, "and back over the socket");
        var atAna = await anaWeb.WaitForAsync<MessageFrame>(m => m.MessageId == reply.MessageId, Timeout);
        atAna.Sender.UserId.Should().Be(bo);
        atAna.Body.Should().Be("and back over the socket");
    }

    [Fact]
    public async Task The_stream_opens_with_a_session_event_and_every_frame_carries_an_id_of_that_session()
    {
        var session = await SessionEventAsync(_system.Edges[0].BaseAddress, Unique("ana"), "web");
        var stream = _streams[^1];
        var sessionId = JsonDocument.Parse(session.Data).RootElement.GetProperty("sessionId").GetString();
        JsonDocument.Parse(session.Data).RootElement.GetProperty("resumed").GetBoolean().Should().BeFalse("no Last-Event-ID");

        await stream.PostAsync(new PingFrame { Id = "p1" });

        var pong = await stream.WaitForEventAsync("message", e => EventStreamClient.Decode(e) is PongFrame { Id: "p1" }, Timeout);
        pong.Id.Should().MatchRegex($@"^{sessionId}\.[0-9]+$", "event ids are {sessionId}.{n}");
    }

    [Fact]
    public async Task Resuming_with_Last_Event_ID_delivers_what_was_pushed_while_the_stream_was_away()
    {
        var (ana, bo) = (Unique("ana"), Unique("bo"));
        var token = await ChatClient.GetDevTokenAsync(_system.Edges[0].BaseAddress, ana, "web");
        var first = await EventStreamClient.OpenAsync(_system.Edges[0].BaseAddress, token);
        _streams.Add(first);
        var boPhone = await _system.ConnectAsync(1, bo, "phone");
        var chatId = await boPhone.CreateChatAsync([ana], "resume");
        await first.WaitForAsync<ChatUpdatedFrame>(u => u.ChatId == chatId, Timeout);
        var lastEventId = first.LastEventId!;
        await first.DropAsync();

        var whileAway = await boPhone.SendMessageAsync(chatId, "sent while the stream was away");
        var resumed = await EventStreamClient.OpenAsync(_system.Edges[0].BaseAddress, token, lastEventId);
        _streams.Add(resumed);

        var session = await resumed.WaitForEventAsync("session", null, Timeout);
        JsonDocument.Parse(session.Data).RootElement.GetProperty("resumed").GetBoolean().Should().BeTrue();
        var pushed = await resumed.WaitForAsync<MessageFrame>(m => m.ChatId == chatId, Timeout);
        pushed.MessageId.Should().Be(whileAway.MessageId, "the session queued it while detached; no sync was needed");
        (await resumed.PostAsync(new PingFrame { Id = "after-resume" })).StatusCode.Should().Be(HttpStatusCode.Accepted);
        await resumed.WaitForAsync<PongFrame>(p => p.Id == "after-resume", Timeout);
    }

    [Fact]
    public async Task An_unknown_Last_Event_ID_starts_a_new_session()
    {
        var ana = Unique("ana");
        var token = await ChatClient.GetDevTokenAsync(_system.Edges[0].BaseAddress, ana, "web");
        var stream = await EventStreamClient.OpenAsync(_system.Edges[0].BaseAddress, token, "0193a6c2-0000-7000-8000-000000000000.7");
        _streams.Add(stream);

        var session = await stream.WaitForEventAsync("session", null, Timeout);
        JsonDocument.Parse(session.Data).RootElement.GetProperty("resumed").GetBoolean().Should().BeFalse();
    }

    [Fact]
    public async Task Commands_without_an_event_stream_on_that_node_are_refused_409_no_session()
    {
        var ana = Unique("ana");
        await OpenAsync(0, ana, "web");
        var token = await ChatClient.GetDevTokenAsync(_system.Edges[1].BaseAddress, ana, "web");
        using var http = new HttpClient { BaseAddress = _system.Edges[1].BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/commands") { Content = new StringContent("""{"type":"ping","id":"p"}""") };
        request.Headers.Authorization = new("Bearer", token);

        using var response = await http.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.Conflict, "the stream is on node 0, the post went to node 1");
        (await response.Content.ReadAsStringAsync()).Should().Contain("no_session");
    }

    [Fact]
    public async Task Posted_frames_are_checked_like_socket_frames_and_errors_come_on_the_stream()
    {
        var anaWeb = await OpenAsync(0, Unique("ana"), "web");

        (await anaWeb.PostRawAsync("""{"type":"message.send","id":"bad","chatId":"c1","clientMsgId":"x"}""")).StatusCode.Should().Be(HttpStatusCode.Accepted);
        (await anaWeb.WaitForAsync<ErrorFrame>(e => e.Id == "bad", Timeout)).Code.Should().Be(ErrorCodes.BadFrame);
        await anaWeb.PostRawAsync("{\"type\":\"ping\",\"id\":\"big\",\"pad\":\"" + new string('x', 100 * 1024) + "\"}");
        (await anaWeb.WaitForAsync<ErrorFrame>(e => e.Id == "big", Timeout)).Code.Should().Be(ErrorCodes.TooLarge);
    }

    [Fact]
    public async Task The_event_stream_needs_a_token()
    {
        using var http = new HttpClient { BaseAddress = _system.Edges[0].BaseAddress };

        using var response = await http.GetAsync("/v1/events");

        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_newer_socket_of_the_device_ends_the_event_stream_session_with_close_4002()
    {
        var ana = Unique("ana");
        var anaWeb = await OpenAsync(0, ana, "web");

        await _system.ConnectAsync(0, ana, "web");

        var close = await anaWeb.WaitForEventAsync("close", null, Timeout);
        JsonDocument.Parse(close.Data).RootElement.GetProperty("code").GetInt32().Should().Be(CloseCodes.Replaced);
    }

    [Fact]
    public async Task Frames_written_to_an_event_stream_are_counted_in_frames_out_like_a_sockets()
    {
        var stream = await OpenAsync(1, Unique("ana"), "web");
        var before = (await PrometheusScrape.FetchAsync(_system.Edges[1].BaseAddress)).Sum("messaging_edge_frames_out_total", "type=\"PongFrame\"");
        const int pings = 3;
        for (var i = 1; i <= pings; i++)
        {
            await stream.PostAsync(new PingFrame { Id = "m" + i });
            await stream.WaitForAsync<PongFrame>(f => f.Id == "m" + i, Timeout);
        }

        // Counted after the write: the scrape may come a moment after the client read the event.
        await Eventually.ReturnsAsync(
            () => PrometheusScrape.FetchAsync(_system.Edges[1].BaseAddress),
            s => s.Sum("messaging_edge_frames_out_total", "type=\"PongFrame\"") >= before + pings,
            Timeout,
            "the pongs written to the event stream in messaging_edge_frames_out_total");
    }

    private async Task<EventStreamClient> OpenAsync(int node, string userId, string deviceId)
    {
        var edge = _system.Edges[node].BaseAddress;
        var stream = await EventStreamClient.OpenAsync(edge, await ChatClient.GetDevTokenAsync(edge, userId, deviceId));
        _streams.Add(stream);
        stream.Status.Should().Be(HttpStatusCode.OK);
        await stream.WaitForEventAsync("session", null, Timeout);
        return stream;
    }

    private async Task<ServerSentEvent> SessionEventAsync(Uri edge, string userId, string deviceId)
    {
        var stream = await EventStreamClient.OpenAsync(edge, await ChatClient.GetDevTokenAsync(edge, userId, deviceId));
        _streams.Add(stream);
        return await stream.WaitForEventAsync("session", null, Timeout);
    }

    private static string Unique(string name) => name + "-" + Guid.NewGuid().ToString("N")[..6];
}
