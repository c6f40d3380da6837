using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Messaging.Client;
using Messaging.Contracts.Commands;
using Messaging.Contracts.Devices;
using Messaging.Contracts.Protocol;
using Messaging.Edge.Auth;
using Messaging.IntegrationTests.Edge;
using Messaging.IntegrationTests.Harness;
using Microsoft.Extensions.DependencyInjection;

namespace Messaging.IntegrationTests.EndToEnd;

/// <summary>
/// The whole system, one chat and four callers — a member (not admin), a user who was never a
/// member, a member removed after the first message, and an expired token — against every
/// WebSocket frame and HTTP endpoint about a chat, a message, media or presence. Each
/// combination gets the answer docs/protocol.md ("Authorization") and docs/security.md give.
/// (A removed device is the devices feature's and is tested there.)
/// </summary>
public sealed class AuthorizationMatrixTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private readonly string _ana = Unique("ana");
    private readonly string _bo = Unique("bo");
    private readonly string _cy = Unique("cy");
    private readonly string _eve = Unique("eve");
    private ChatSystem _system = null!;
    private int _requests;

    public async Task InitializeAsync() => _system = await ChatSystem.StartAsync(edgeNodes: 1);

    public async Task DisposeAsync() => await _system.DisposeAsync();

    [Fact]
    public async Task Every_frame_and_endpoint_answers_members_non_members_removed_members_and_expired_tokens_as_documented()
    {
        var ana = await _system.ConnectAsync(0, _ana, Phone);
        var bo = await _system.ConnectAsync(0, _bo, Phone);
        var cy = await _system.ConnectAsync(0, _cy, Phone);
        var eve = await _system.ConnectAsync(0, _eve, Phone);

        // ana's chat with bo and cy; message 1 (attachment k1), cy removed, message 2 (attachment k2).
        var k1 = (await ana.RequestUploadAsync("image/png", 3, "a.png")).Key;
        var chat = await ana.CreateChatAsync([_bo, _cy], "matrix");
        var m1 = await ana.SendMessageAsync(chat, "before", attachments: [new Attachment(k1, "image/png", 3, "a.png")]);
        await ana.RemoveMemberAsync(chat, _cy);
        var k2 = (await ana.RequestUploadAsync("image/png", 3, "b.png")).Key;
        var m2 = await ana.SendMessageAsync(chat, "after", attachments: [new Attachment(k2, "image/png", 3, "b.png")]);
        var seq1 = (await cy.WaitForAsync<MessageFrame>(m => m.MessageId == m1.MessageId, Timeout)).Seq;
        var leftSeq = (await cy.WaitForAsync<ChatUpdatedFrame>(u => u.ChatId == chat && u.Change == "member.removed", Timeout)).Seq;
        var seq2 = (await bo.WaitForAsync<MessageFrame>(m => m.MessageId == m2.MessageId, Timeout)).Seq;
        await Eventually.TrueAsync(
            async () => await _system.CountAsync("select count(*) from messages where chat_id = $1 and seq = $2", chat, seq2) == 1
                && await _system.CountAsync("select count(*) from chat_members where chat_id = $1 and user_id = $2 and left_seq is not null", chat, _cy) == 1,
            Timeout,
            "the read models have the chat up to message 2");

        // message.send: members are accepted and delivered; everyone else is refused by the Router.
        var sent = await bo.SendMessageAsync(chat, "member speaks");
        (await ana.WaitForAsync<MessageFrame>(m => m.MessageId == sent.MessageId, Timeout)).Body.Should().Be("member speaks");
        (await RefusalAsync(eve, id => new SendMessageFrame { Id = id, ChatId = chat, ClientMsgId = id, Body = "x" })).Should().Be(ErrorCodes.NotMember);
        (await RefusalAsync(cy, id => new SendMessageFrame { Id = id, ChatId = chat, ClientMsgId = id, Body = "x" })).Should().Be(ErrorCodes.NotMember);

        // members.add / members.remove / admin.grant: admins only; non-members and removed members are not members.
        foreach (var (caller, expected) in new[] { (bo, ErrorCodes.NotAdmin), (eve, ErrorCodes.NotMember), (cy, ErrorCodes.NotMember) })
        {
            (await RefusalAsync(caller, id => new AddMembersFrame { Id = id, ChatId = chat, UserIds = [_eve] })).Should().Be(expected);
            (await RefusalAsync(caller, id => new RemoveMemberFrame { Id = id, ChatId = chat, UserId = _ana })).Should().Be(expected);
            (await RefusalAsync(caller, id => new GrantAdminFrame { Id = id, ChatId = chat, UserId = _bo })).Should().Be(expected);
        }

        // chat.leave: only a member can leave.
        (await RefusalAsync(eve, id => new LeaveChatFrame { Id = id, ChatId = chat })).Should().Be(ErrorCodes.NotMember);
        (await RefusalAsync(cy, id => new LeaveChatFrame { Id = id, ChatId = chat })).Should().Be(ErrorCodes.NotMember);

        // history: members from their join; a removed member keeps the range they were a member for.
        (await bo.HistoryAsync(chat)).Messages.Select(m => m.MessageId).Should().Contain([m1.MessageId, m2.MessageId]);
        (await cy.HistoryAsync(chat)).Messages.Select(m => m.MessageId).Should().Equal(m1.MessageId);
        (await RefusalAsync(eve, id => new HistoryFrame { Id = id, ChatId = chat })).Should().Be(ErrorCodes.NotMember);

        // ack: members up to the last seq; a removed member up to the seq they left at; nobody beyond; non-members never.
        (await RefusalAsync(eve, id => new AckFrame { Id = id, ChatId = chat, Seq = seq1 })).Should().Be(ErrorCodes.NotMember);
        (await RefusalAsync(cy, id => new AckFrame { Id = id, ChatId = chat, Seq = leftSeq + 1 })).Should().Be(ErrorCodes.BadFrame);
        (await RefusalAsync(bo, id => new AckFrame { Id = id, ChatId = chat, Seq = seq2 + 1000 })).Should().Be(ErrorCodes.BadFrame);
        await bo.AckAsync(chat, seq2);
        await cy.AckAsync(chat, leftSeq);
        var acks = await Eventually.ReturnsAsync(AcksAsync(chat), l => l.Count >= 2, Timeout, "the allowed acks on device.acks");
        acks.Select(a => (a.UserId, a.Seq)).Should().BeEquivalentTo(new[] { (_bo, seq2), (_cy, leftSeq) });

        // sync: each device gets its own inbox only (eve's has nothing of this chat; cy's stops at the removal).
        (await eve.SyncAsync()).Frames.Should().NotContain(f => f is MessageFrame && ((MessageFrame)f).ChatId == chat);
        var cySync = await cy.SyncAsync();
        cySync.Messages.Where(m => m.ChatId == chat).Select(m => m.MessageId).Should().NotContain(m2.MessageId);

        // presence: of users one currently shares a chat with.
        // Presence is read from device.sessions, ana's session record a moment after her connect.
        (await Eventually.ReturnsAsync(() => bo.GetPresenceAsync([_ana]), p => p.Count == 1 && p[0].Online, Timeout, "ana online for bo"))
            .Should().ContainSingle().Which.Online.Should().BeTrue();
        (await RefusalAsync(eve, id => new GetPresenceFrame { Id = id, UserIds = [_ana] })).Should().Be(ErrorCodes.NotMember);
        (await RefusalAsync(cy, id => new WatchPresenceFrame { Id = id, UserIds = [_ana] })).Should().Be(ErrorCodes.NotMember);

        // HTTP: the same rules; media is 404 (not 403) for those who may not see it, so a key's existence is not revealed.
        var http = _system.Edges[0].BaseAddress;
        await ExpectAsync(_bo, "/v1/chats", HttpStatusCode.OK, body => body.Should().Contain(chat));
        await ExpectAsync(_eve, "/v1/chats", HttpStatusCode.OK, body => body.Should().NotContain(chat));
        await ExpectAsync(_cy, "/v1/chats", HttpStatusCode.OK, body => body.Should().NotContain(chat));
        await ExpectAsync(_bo, $"/v1/chats/{chat}/messages", HttpStatusCode.OK, body => body.Should().Contain(m2.MessageId));
        await ExpectAsync(_cy, $"/v1/chats/{chat}/messages", HttpStatusCode.OK, body => body.Should().Contain(m1.MessageId).And.NotContain(m2.MessageId));
        await ExpectAsync(_eve, $"/v1/chats/{chat}/messages", HttpStatusCode.Forbidden, body => body.Should().Contain(ErrorCodes.NotMember));
        await ExpectAsync(_ana, $"/v1/media/{k1}", HttpStatusCode.Redirect);
        await ExpectAsync(_bo, $"/v1/media/{k1}", HttpStatusCode.Redirect);
        await ExpectAsync(_bo, $"/v1/media/{k2}", HttpStatusCode.Redirect);
        await ExpectAsync(_cy, $"/v1/media/{k1}", HttpStatusCode.Redirect);
        await ExpectAsync(_cy, $"/v1/media/{k2}", HttpStatusCode.NotFound, body => body.Should().Contain("not_found"));
        await ExpectAsync(_eve, $"/v1/media/{k1}", HttpStatusCode.NotFound, body => body.Should().Contain("not_found"));
        await ExpectAsync(_bo, $"/v1/presence?userIds={_ana}", HttpStatusCode.OK);
        await ExpectAsync(_cy, $"/v1/presence?userIds={_ana}", HttpStatusCode.Forbidden, body => body.Should().Contain(ErrorCodes.NotMember));
        await ExpectAsync(_eve, $"/v1/presence?userIds={_ana}", HttpStatusCode.Forbidden, body => body.Should().Contain(ErrorCodes.NotMember));

        // An expired token: 401 on every endpoint and on the upgrade (an open socket is closed at
        // expiry: EdgeAuthorizationTests).
        var tokens = _system.Edges[0].Services.GetRequiredService<TokenService>();
        var expired = tokens.Issue(_bo, Phone, DateTimeOffset.UtcNow.AddHours(-2), TimeSpan.FromHours(1));
        foreach (var path in new[] { "/v1/chats", $"/v1/chats/{chat}/messages", $"/v1/media/{k1}", $"/v1/presence?userIds={_ana}", "/ws" })
        {
            using var response = await SendAsync(http, path, expired);
            response.StatusCode.Should().Be(HttpStatusCode.Unauthorized, path);
            using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            problem.RootElement.GetProperty("code").GetString().Should().Be(ErrorCodes.Unauthorized, path);
            problem.RootElement.GetProperty("detail").GetString().Should().Be("expired", path);
        }

        var upgrade = () => ChatClient.ConnectAsync(new UriBuilder(http) { Scheme = "ws", Path = "/ws" }.Uri, expired);
        await upgrade.Should().ThrowAsync<System.Net.WebSockets.WebSocketException>();
    }

    /// <summary>Every user calls their device "phone" (issue 8): a device is (user, device), so they never collide.</summary>
    private const string Phone = "phone";

    private static string Unique(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..8];

    /// <summary>Sends a frame with a fresh id and returns the code of the error that answers it (from Edge at once, or from the Router later).</summary>
    private async Task<string> RefusalAsync(ChatClient client, Func<string, ClientFrame> frame)
    {
        var id = "mx-" + Interlocked.Increment(ref _requests).ToString(System.Globalization.CultureInfo.InvariantCulture);
        await client.SendAsync(frame(id));
        return (await client.WaitForAsync<ErrorFrame>(e => e.Id == id, Timeout)).Code;
    }

    private Func<Task<List<DeviceAck>>> AcksAsync(string chat) => async () =>
        AckRecords.Of(await new TopicProbe(_system.Edges[0].Services.GetRequiredService<Messaging.Hosting.Kafka.KafkaClientFactory>(), _system.Edges[0].Services.GetRequiredService<Messaging.Contracts.Topics.TopicNames>().DeviceAcks).ReadAllAsync(), chat);

    private async Task ExpectAsync(string user, string path, HttpStatusCode status, Action<string>? body = null)
    {
        var token = _system.Edges[0].Services.GetRequiredService<TokenService>().Issue(user, Phone);
        using var response = await SendAsync(_system.Edges[0].BaseAddress, path, token);
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(status, $"{user} GET {path}: {text}");
        body?.Invoke(text);
    }

    private static async Task<HttpResponseMessage> SendAsync(Uri http, string path, string token)
    {
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(http, path));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await client.SendAsync(request);
    }
}
