using System.Net;
using System.Net.WebSockets;
using System.Text;
using Messaging.Client;
using Messaging.Contracts;
using Messaging.Contracts.Commands;
using Messaging.Contracts.Delivery;
using Messaging.Contracts.Devices;
using Messaging.Contracts.Events;
using Messaging.Contracts.Protocol;
using Messaging.Contracts.Serialization;
using Messaging.IntegrationTests.Harness;
using static Messaging.IntegrationTests.Edge.EdgeHost;

namespace Messaging.IntegrationTests.Edge;

/// <summary>The WebSocket protocol of one Edge node: validation, commands, delivery, sessions.</summary>
public sealed class EdgeProtocolTests(EdgeHost edge) : IClassFixture<EdgeHost>
{
    [Fact]
    public async Task A_client_disposed_twice_closes_its_socket_once_and_does_not_throw()
    {
        // The fixture disposes every client it connected again at its end (a test's `await using`
        // did that to a CI run's class cleanup, 2026-11-28).
        var client = await edge.ConnectAsync(EdgeHost.NextId("u"), EdgeHost.NextId("phone"));

        await client.DisposeAsync();
        var again = async () => await client.DisposeAsync();

        await again.Should().NotThrowAsync();
    }

    [Fact]
    public async Task Every_bad_frame_gets_its_error_and_the_connection_and_others_keep_working()
    {
        var client = await edge.ConnectAsync(NextId("u"), NextId("d"));
        var bystander = await edge.ConnectAsync(NextId("u"), NextId("d"));

        await client.SendRawAsync(Encoding.UTF8.GetBytes("{not json"));
        (await client.WaitForAsync<ErrorFrame>(null, Wait)).Code.Should().Be(ErrorCodes.BadFrame);

        await client.SendRawAsync(Encoding.UTF8.GetBytes("""{"type":"teleport","id":"t1"}"""));
        var unknown = await client.WaitForAsync<ErrorFrame>(null, Wait);
        unknown.Should().BeEquivalentTo(new { Id = "t1", Code = ErrorCodes.UnknownType });

        await client.SendRawAsync(Encoding.UTF8.GetBytes("""{"type":"message.send","id":"m1","chatId":"c"}"""));
        (await client.WaitForAsync<ErrorFrame>(null, Wait)).Should().BeEquivalentTo(new { Id = "m1", Code = ErrorCodes.BadFrame });

        await client.SendRawAsync(Encoding.UTF8.GetBytes("""{"type":"ack","id":"a1","chatId":"c","seq":"seven"}"""));
        (await client.WaitForAsync<ErrorFrame>(null, Wait)).Should().BeEquivalentTo(new { Id = "a1", Code = ErrorCodes.BadFrame });

        await client.SendRawAsync(new byte[] { 1, 2, 3 }, WebSocketMessageType.Binary);
        (await client.WaitForAsync<ErrorFrame>(null, Wait)).Code.Should().Be(ErrorCodes.BadFrame);

        // Over Edge:MaxFrameBytes (96 KiB), sent in fragments: skipped, the id still echoed.
        var huge = Encoding.UTF8.GetBytes("""{"id":"big","type":"message.send","chatId":"c","clientMsgId":"x","body":""" + "\"" + new string('x', 120_000) + "\"}");
        await client.SendRawAsync(huge.AsMemory(0, 50_000), endOfMessage: false);
        await client.SendRawAsync(huge.AsMemory(50_000), endOfMessage: true);
        (await client.WaitForAsync<ErrorFrame>(null, Wait)).Should().BeEquivalentTo(new { Id = "big", Code = ErrorCodes.TooLarge });

        // A body over Edge:MaxBodyBytes in a frame that fits.
        await client.SendAsync(new SendMessageFrame { Id = "body", ChatId = "c", ClientMsgId = "x", Body = new string('y', 70_000) });
        (await client.WaitForAsync<ErrorFrame>(null, Wait)).Should().BeEquivalentTo(new { Id = "body", Code = ErrorCodes.TooLarge });

        (await client.PingAsync()).Should().NotBeNull();
        (await bystander.PingAsync()).Should().NotBeNull();
        client.State.Should().Be(WebSocketState.Open);
    }

    [Fact]
    public async Task A_frame_in_fragments_is_read_whole_after_the_idle_wait_and_an_empty_frame_is_refused()
    {
        // Edge waits for each message with a zero-byte receive and rents its buffer only when the
        // first fragment arrives: the fragments after it, and a message with no bytes at all (which
        // that first receive already completes), must read as before.
        var client = await edge.ConnectAsync(NextId("u"), NextId("d"));
        var ping = Encoding.UTF8.GetBytes("""{"type":"ping","id":"split"}""");
        await client.SendRawAsync(ping.AsMemory(0, 5), endOfMessage: false);
        await client.SendRawAsync(ping.AsMemory(5, 10), endOfMessage: false);
        await client.SendRawAsync(ping.AsMemory(15), endOfMessage: true);
        (await client.WaitForAsync<PongFrame>(null, Wait)).Id.Should().Be("split");

        await client.SendRawAsync(ReadOnlyMemory<byte>.Empty);
        (await client.WaitForAsync<ErrorFrame>(null, Wait)).Code.Should().Be(ErrorCodes.BadFrame);

        (await client.PingAsync()).Should().NotBeNull();
        client.State.Should().Be(WebSocketState.Open);
    }

    [Fact]
    public async Task A_missing_forged_or_expired_token_is_refused_with_401_before_the_upgrade()
    {
        using (var none = await edge.HttpClient.SendAsync(edge.Get("/ws", null)))
        {
            none.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
            none.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
            (await none.Content.ReadAsStringAsync()).Should().Contain(ErrorCodes.Unauthorized);
        }

        var forger = new Messaging.Edge.Auth.TokenService(
            Microsoft.Extensions.Options.Options.Create(new Messaging.Edge.Auth.AuthOptions { SigningKey = new string('k', 48) }),
            TimeProvider.System);
        using (var forged = await edge.HttpClient.SendAsync(edge.Get("/ws", forger.Issue("ana", "ana-1"))))
        {
            forged.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        }

        var tokens = edge.Host.Services.GetService(typeof(Messaging.Edge.Auth.TokenService)) as Messaging.Edge.Auth.TokenService;
        var expired = tokens!.Issue("ana", "ana-1", DateTimeOffset.UtcNow.AddHours(-2), TimeSpan.FromHours(1));
        using (var old = await edge.HttpClient.SendAsync(edge.Get("/v1/chats", expired)))
        {
            old.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
            (await old.Content.ReadAsStringAsync()).Should().Contain("expired");
        }

        var act = () => ChatClient.ConnectAsync(edge.Ws, expired);
        await act.Should().ThrowAsync<WebSocketException>();

        // Browsers pass the token in the query string.
        await using var browser = await ChatClient.ConnectAsync(edge.Ws, edge.Token(NextId("u"), NextId("d")), new ChatClientOptions { TokenInQuery = true });
        (await browser.PingAsync()).Should().NotBeNull();
    }

    [Fact]
    public async Task The_dev_token_endpoint_issues_working_tokens_and_refuses_bad_bodies()
    {
        var token = await ChatClient.GetDevTokenAsync(edge.Http, NextId("u"), NextId("d"), edge.HttpClient);
        await using var client = await ChatClient.ConnectAsync(edge.Ws, token);
        (await client.PingAsync()).Should().NotBeNull();

        using var bad = await edge.HttpClient.PostAsync(new Uri(edge.Http, "/v1/dev/tokens"), new StringContent("""{"userId":""}""", Encoding.UTF8, "application/json"));
        bad.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        bad.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        using var notJson = await edge.HttpClient.PostAsync(new Uri(edge.Http, "/v1/dev/tokens"), new StringContent("nope", Encoding.UTF8, "application/json"));
        notJson.StatusCode.Should().Be(HttpStatusCode.BadRequest);

        // The shared id rules (Ids): no ':' in a user id, no '/' or space in a device id.
        foreach (var body in new[] { "{\"userId\":\"d:ana\",\"deviceId\":\"p\"}", "{\"userId\":\"ana\",\"deviceId\":\"a/b\"}", "{\"userId\":\"ana\",\"deviceId\":\" \"}" })
        {
            using var badId = await edge.HttpClient.PostAsync(new Uri(edge.Http, "/v1/dev/tokens"), new StringContent(body, Encoding.UTF8, "application/json"));
            badId.StatusCode.Should().Be(HttpStatusCode.BadRequest, body);
            badId.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        }
    }

    [Fact]
    public async Task A_send_is_appended_to_chat_commands_before_it_is_accepted()
    {
        var user = NextId("u");
        var device = NextId("d");
        var client = await edge.ConnectAsync(user, device);
        var chatId = await client.CreateChatAsync(["bo"], "lunch");
        Guid.TryParse(chatId, out _).Should().BeTrue();

        var accepted = await client.SendMessageAsync(chatId, "hello", clientMsgId: "c-1");

        // Accepted means durable: the command is already in the log when the reply arrives.
        var commands = await edge.Probe(edge.Topics.ChatCommands).ReadAsync(chatId, b => Codecs.Commands.Decode(b).Value);
        commands.Should().HaveCount(2);
        commands[0].Should().BeOfType<CreateChat>().Which.Members.Should().Equal("bo");
        var send = commands[1].Should().BeOfType<SendMessage>().Subject;
        send.MessageId.Should().Be(accepted.MessageId);
        send.ClientMsgId.Should().Be("c-1");
        send.Body.Should().Be("hello");
        send.Origin.Should().Be(new DeviceRef(user, device));
        send.OriginNode.Should().Be(NodeId);
        send.RequestId.Should().NotBeNullOrEmpty();
        accepted.ChatId.Should().Be(chatId);
        Guid.Parse(accepted.MessageId).Version.Should().Be(7);
    }

    [Fact]
    public async Task A_direct_send_goes_to_the_deterministic_chat_of_the_two_users()
    {
        var user = "zed-" + NextId("");
        var client = await edge.ConnectAsync(user, NextId("d"));
        var accepted = await client.SendDirectMessageAsync("amy", "hi amy");
        accepted.ChatId.Should().Be($"d:amy:{user}");
        var commands = await edge.Probe(edge.Topics.ChatCommands).ReadAsync(accepted.ChatId, b => Codecs.Commands.Decode(b).Value as SendMessage);
        commands.Should().ContainSingle().Which.PeerUserId.Should().Be("amy");
    }

    [Fact]
    public async Task Membership_frames_are_appended_and_accepted_and_acks_go_to_device_acks()
    {
        var user = NextId("u");
        var device = NextId("d");
        var client = await edge.ConnectAsync(user, device);
        var chatId = NextId("chat");
        await client.AddMembersAsync(chatId, ["x", "y"]);
        await client.RemoveMemberAsync(chatId, "x");
        await client.GrantAdminAsync(chatId, "y");
        await client.LeaveChatAsync(chatId);
        var commands = await edge.Probe(edge.Topics.ChatCommands).ReadAsync(chatId, b => Codecs.Commands.Decode(b).Value);
        commands.Select(c => c.GetType()).Should().Equal(typeof(AddMembers), typeof(RemoveMember), typeof(GrantAdmin), typeof(LeaveChat));

        // An ack needs a membership and a seq the chat has (read models, written here as the projection would).
        await edge.ExecuteAsync("insert into chats (chat_id, kind, created_at, last_seq, last_event_at) values ($1, 'group', now(), 7, now())", chatId);
        await edge.ExecuteAsync("insert into chat_members (chat_id, user_id, role, joined_seq) values ($1, $2, 'member', 1)", chatId, user);
        await client.AckAsync(chatId, 7);
        // In the node's next batch (Edge:AckBatchMs), keyed by its first device.
        var acks = await Eventually.ReturnsAsync(
            async () => (await edge.Probe(edge.Topics.DeviceAcks).ReadAllAsync())
                .Select(r => Codecs.Devices.Decode(r.Message.Value).Value)
                .OfType<DeliveriesAcked>()
                .SelectMany(b => b.Acks)
                .Where(a => a.ChatId == chatId)
                .ToList(),
            l => l.Count > 0,
            Wait,
            "the ack on device.acks");
        acks.Single().Should().BeEquivalentTo(new { ChatId = chatId, Seq = 7L, UserId = user, DeviceId = device });
    }

    [Fact]
    public async Task Acks_of_many_devices_sent_together_share_device_acks_records_and_none_is_lost()
    {
        var chatId = NextId("chat");
        await edge.ExecuteAsync("insert into chats (chat_id, kind, created_at, last_seq, last_event_at) values ($1, 'group', now(), 9, now())", chatId);
        var clients = new List<ChatClient>();
        for (var i = 0; i < 20; i++)
        {
            var user = NextId("u");
            await edge.ExecuteAsync("insert into chat_members (chat_id, user_id, role, joined_seq) values ($1, $2, 'member', 1)", chatId, user);
            clients.Add(await edge.ConnectAsync(user, NextId("d")));
        }

        await Task.WhenAll(clients.Select((c, i) => c.AckAsync(chatId, 1 + (i % 9))));

        var batches = await Eventually.ReturnsAsync(
            async () => (await edge.Probe(edge.Topics.DeviceAcks).ReadAllAsync())
                .Select(r => Codecs.Devices.Decode(r.Message.Value).Value)
                .OfType<DeliveriesAcked>()
                .Where(b => b.Acks.Any(a => a.ChatId == chatId))
                .ToList(),
            l => l.Sum(b => b.Acks.Count(a => a.ChatId == chatId)) >= 20,
            Wait,
            "the 20 acks on device.acks");
        batches.SelectMany(b => b.Acks).Where(a => a.ChatId == chatId).Select(a => a.Seq)
            .Should().BeEquivalentTo(Enumerable.Range(0, 20).Select(i => (long)(1 + (i % 9))));
        // Sent within a few ms of each other and gathered for Edge:AckBatchMs: they cannot all be records of their own.
        batches.Should().HaveCountLessThan(20);
    }

    [Fact]
    public async Task A_delivery_record_reaches_the_listed_local_sockets_and_only_them()
    {
        var ana = NextId("ana");
        var bo = NextId("bo");
        var cy = NextId("cy");
        var anaPhone = await edge.ConnectAsync(ana, ana + "-phone");
        var boPhone = await edge.ConnectAsync(bo, bo + "-phone");
        var cyPhone = await edge.ConnectAsync(cy, cy + "-phone");
        var chatId = NextId("chat");

        // For another node: nobody here may get it.
        await edge.DeliverAsync(Routed(chatId, 1, "for node 0", ana + "/" + ana + "-phone"), chatId, node: 0);
        await edge.DeliverAsync(Routed(chatId, 2, "hello", ana + "/" + ana + "-phone", bo + "/" + bo + "-phone", "x/elsewhere", cy + "-phone"), chatId);
        await edge.DeliverAsync(Routed(chatId, 3, "only cy", cy + "/" + cy + "-phone"), chatId);

        (await anaPhone.WaitForAsync<MessageFrame>(m => m.ChatId == chatId, Wait)).Should().BeEquivalentTo(new { Seq = 2L, Body = "hello" });
        (await boPhone.WaitForAsync<MessageFrame>(m => m.ChatId == chatId, Wait)).Should().BeEquivalentTo(new { Seq = 2L, Body = "hello" });
        // Records of one chat come in order: when cy has seq 3, seq 2 would have come first.
        (await cyPhone.WaitForAsync<MessageFrame>(m => m.ChatId == chatId, Wait)).Seq.Should().Be(3);

        var membership = new EventRouted
        {
            Devices = [ana + "/" + ana + "-phone"],
            Event = new MembersAdded { ChatId = chatId, Seq = 4, Actor = new DeviceRef(bo, bo + "-phone"), OccurredAt = DateTimeOffset.UtcNow, UserIds = ["di"] },
        };
        await edge.DeliverAsync(membership, chatId);
        var update = await anaPhone.WaitForAsync<ChatUpdatedFrame>(u => u.ChatId == chatId, Wait);
        update.Should().BeEquivalentTo(new { Seq = 4L, Change = "members.added" });
        update.UserIds.Should().Equal("di");
        anaPhone.Frames.TryPeek(out var extra).Should().BeFalse("ana got nothing else, got {0}", extra);
    }

    [Fact]
    public async Task A_refusal_and_a_duplicate_notice_reach_the_origin_device_as_error_and_accepted_frames()
    {
        var user = NextId("u");
        var device = NextId("d");
        var client = await edge.ConnectAsync(user, device);
        var chatId = NextId("chat");
        await edge.DeliverAsync(new CommandRejected { Devices = [DeviceRef.AddressOf(user, device)], ChatId = chatId, CommandId = "cmd", RequestId = "r-77", Code = ErrorCodes.NotMember, Message = "not a member" }, chatId);
        (await client.WaitForAsync<ErrorFrame>(e => e.Id == "r-77", Wait)).Code.Should().Be(ErrorCodes.NotMember);

        await edge.DeliverAsync(new DuplicateSendIgnored { Devices = [DeviceRef.AddressOf(user, device)], ChatId = chatId, ClientMsgId = "c-9", RequestId = "r-78", Seq = 12, MessageId = "m-orig" }, chatId);
        var duplicate = await client.WaitForAsync<MessageAcceptedFrame>(a => a.Id == "r-78", Wait);
        duplicate.Should().BeEquivalentTo(new { ChatId = chatId, ClientMsgId = "c-9", Seq = 12L, MessageId = "m-orig" });
    }

    [Fact]
    public async Task A_second_connection_of_a_device_replaces_the_first()
    {
        var user = NextId("u");
        var device = NextId("d");
        var first = await edge.ConnectAsync(user, device);
        var second = await edge.ConnectAsync(user, device);
        (await first.Closed.WaitAsync(Wait)).Should().Be((WebSocketCloseStatus)CloseCodes.Replaced);
        (await second.PingAsync()).Should().NotBeNull();

        // Deliveries go to the new socket.
        var chatId = NextId("chat");
        await edge.DeliverAsync(Routed(chatId, 1, "to the new one", DeviceRef.AddressOf(user, device)), chatId);
        (await second.WaitForAsync<MessageFrame>(m => m.ChatId == chatId, Wait)).Body.Should().Be("to the new one");
    }

    [Fact]
    public async Task Sessions_are_announced_on_connect_and_withdrawn_on_disconnect()
    {
        var user = NextId("u");
        var device = NextId("d");
        var client = await edge.ConnectAsync(user, device);
        var sessions = edge.Probe(edge.Topics.DeviceSessions);
        // One record: the node's lease keeps it alive (EdgeNodeLeased), it is not re-announced.
        var announced = await sessions.ReadAsync(DeviceRef.AddressOf(user, device), b => Codecs.Devices.Decode(b).Value as DeviceSessionChanged);
        announced.Should().ContainSingle();
        var online = announced[0];
        announced.Should().OnlyContain(r => r.SessionId == online.SessionId && r.Node == online.Node);
        online.Node.Should().Be(NodeId);
        online.UserId.Should().Be(user);
        online.LeaseUntil.Should().BeAfter(DateTimeOffset.UtcNow.AddSeconds(10));

        var registered = await edge.Probe(edge.Topics.UserDevices).ReadAsync(user, b => Codecs.Devices.Decode(b).Value as UserDevicesChanged);
        registered.Should().ContainSingle().Which.DeviceIds.Should().Equal(device);

        await client.CloseAsync();
        var records = await Eventually.ReturnsAsync(
            () => sessions.ReadAsync(DeviceRef.AddressOf(user, device), b => Codecs.Devices.Decode(b).Value as DeviceSessionChanged),
            l => l.Count >= 2 && l[^1].Node is null,
            Wait,
            "the offline record");
        records[^1].Node.Should().BeNull();
        records[^1].SessionId.Should().Be(online.SessionId);
    }

    [Fact]
    public async Task A_seventh_device_is_refused_and_a_removed_device_is_closed_and_frees_its_place()
    {
        var user = NextId("u");
        var devices = Enumerable.Range(1, 6).Select(i => $"{user}-d{i}").ToList();
        var clients = new List<ChatClient>();
        foreach (var device in devices)
        {
            clients.Add(await edge.ConnectAsync(user, device));
        }

        await using (var seventh = await ChatClient.ConnectAsync(edge.Ws, edge.Token(user, user + "-d7")))
        {
            (await seventh.WaitForAsync<ErrorFrame>(null, Wait)).Code.Should().Be(ErrorCodes.TooManyDevices);
            (await seventh.Closed.WaitAsync(Wait)).Should().Be((WebSocketCloseStatus)CloseCodes.TooManyDevices);
        }

        await clients[0].RemoveDeviceAsync(devices[5]);
        (await clients[5].Closed.WaitAsync(Wait)).Should().Be((WebSocketCloseStatus)CloseCodes.DeviceRemoved);

        var replacement = await edge.ConnectAsync(user, user + "-d7");
        (await replacement.PingAsync()).Should().NotBeNull();
        var lists = await edge.Probe(edge.Topics.UserDevices).ReadAsync(user, b => Codecs.Devices.Decode(b).Value as UserDevicesChanged);
        lists[^1].DeviceIds.Should().BeEquivalentTo([.. devices.Take(5), user + "-d7"]);
        lists[^1].Removed.Select(r => r.DeviceId).Should().Equal(devices[5]);
        lists.Select(l => l.Version).Should().BeInAscendingOrder().And.OnlyHaveUniqueItems();
    }

    private static EventRouted Routed(string chatId, long seq, string body, params string[] devices) => new()
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
