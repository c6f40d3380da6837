using System.Net.WebSockets;
using Messaging.Client;
using Messaging.Contracts;
using Messaging.Contracts.Delivery;
using Messaging.Contracts.Devices;
using Messaging.Contracts.Events;
using Messaging.Contracts.Protocol;
using Messaging.Edge.Auth;
using Messaging.IntegrationTests.Harness;
using Microsoft.Extensions.DependencyInjection;
using static Messaging.IntegrationTests.Edge.EdgeHost;

namespace Messaging.IntegrationTests.Edge;

/// <summary>No clock skew, so a short-lived token expires when its <c>exp</c> says.</summary>
public sealed class NoClockSkewEdgeHost : EdgeHost
{
    protected override void Configure(Dictionary<string, string?> settings) => settings["Auth:ClockSkewSeconds"] = "0";
}

/// <summary>Token expiry on open sockets and the ack rule, against one Edge node and read-model rows the tests write.</summary>
public sealed class EdgeAuthorizationTests(NoClockSkewEdgeHost edge) : IClassFixture<NoClockSkewEdgeHost>
{
    [Fact]
    public async Task An_open_socket_is_closed_with_4001_token_expired_when_its_token_expires()
    {
        // Long enough to connect on a loaded machine, short enough to wait for.
        var token = edge.Host.Services.GetRequiredService<TokenService>().Issue(NextId("u"), NextId("d"), DateTimeOffset.UtcNow, TimeSpan.FromSeconds(8));
        await using var client = await ChatClient.ConnectAsync(edge.Ws, token);

        var closed = await client.Closed.WaitAsync(Wait);
        closed.Should().Be((WebSocketCloseStatus)CloseCodes.Unauthorized);
        client.CloseStatusDescription.Should().Be(ErrorCodes.TokenExpired);
        (await client.WaitForAsync<ErrorFrame>(null, Wait)).Code.Should().Be(ErrorCodes.TokenExpired, "the error frame comes before the close");
    }

    [Fact]
    public async Task An_ack_for_a_chat_the_user_never_joined_is_refused_not_member_and_not_recorded()
    {
        var chat = NextId("chat");
        await ChatAsync(chat, lastSeq: 5);
        var client = await edge.ConnectAsync(NextId("u"), NextId("d"));

        await client.SendAsync(new AckFrame { Id = "a1", ChatId = chat, Seq = 1 });
        (await client.WaitForAsync<ErrorFrame>(e => e.Id == "a1", Wait)).Code.Should().Be(ErrorCodes.NotMember);
        (await AcksAsync(chat)).Should().BeEmpty();
    }

    [Fact]
    public async Task An_ack_beyond_the_last_seq_or_beyond_a_former_members_leave_is_refused_bad_frame()
    {
        var chat = NextId("chat");
        var member = NextId("u");
        var former = NextId("u");
        await ChatAsync(chat, lastSeq: 5);
        await MemberAsync(chat, member, leftSeq: null);
        await MemberAsync(chat, former, leftSeq: 3);
        var memberClient = await edge.ConnectAsync(member, NextId("d"));
        var formerClient = await edge.ConnectAsync(former, NextId("d"));

        await memberClient.SendAsync(new AckFrame { Id = "beyond", ChatId = chat, Seq = 6 });
        (await memberClient.WaitForAsync<ErrorFrame>(e => e.Id == "beyond", Wait)).Code.Should().Be(ErrorCodes.BadFrame);
        await formerClient.SendAsync(new AckFrame { Id = "after-leave", ChatId = chat, Seq = 4 });
        (await formerClient.WaitForAsync<ErrorFrame>(e => e.Id == "after-leave", Wait)).Code.Should().Be(ErrorCodes.BadFrame);

        await memberClient.AckAsync(chat, 5);
        await formerClient.AckAsync(chat, 3);
        var acks = await Eventually.ReturnsAsync(() => AcksAsync(chat), l => l.Count >= 2, Wait, "the two allowed acks");
        acks.Select(a => (a.UserId, a.Seq)).Should().BeEquivalentTo(new[] { (member, 5L), (former, 3L) });
    }

    [Fact]
    public async Task A_pushed_event_may_be_acked_before_the_read_models_have_it()
    {
        // The live path is ahead of the projections: the chat's rows say seq 1, the push is seq 2.
        var chat = NextId("chat");
        var user = NextId("u");
        var device = NextId("d");
        await ChatAsync(chat, lastSeq: 1);
        await MemberAsync(chat, user, leftSeq: null);
        var client = await edge.ConnectAsync(user, device);
        await edge.DeliverAsync(
            new EventRouted
            {
                Devices = [DeviceRef.AddressOf(user, device)],
                Event = new MessageSent { ChatId = chat, Seq = 2, Actor = new DeviceRef("s", "s-1"), OccurredAt = DateTimeOffset.UtcNow, MessageId = "m2", ClientMsgId = "c2", Body = "pushed" },
            },
            chat);
        await client.WaitForAsync<MessageFrame>(m => m.ChatId == chat && m.Seq == 2, Wait);

        await client.SendAsync(new AckFrame { Id = "pushed", ChatId = chat, Seq = 2 });
        var acks = await Eventually.ReturnsAsync(() => AcksAsync(chat), l => l.Count >= 1, Wait, "the ack of the pushed seq");
        acks.Single().Seq.Should().Be(2);
        while (client.Frames.TryRead(out var frame))
        {
            frame.Should().NotBeOfType<ErrorFrame>();
        }
    }

    private async Task<List<DeviceAck>> AcksAsync(string chat) =>
        AckRecords.Of(await edge.Probe(edge.Topics.DeviceAcks).ReadAllAsync(), chat);

    private Task ChatAsync(string chat, long lastSeq) =>
        edge.ExecuteAsync("insert into chats (chat_id, kind, created_at, last_seq, last_event_at) values ($1, 'group', now(), $2, now())", chat, lastSeq);

    private Task MemberAsync(string chat, string user, long? leftSeq) => leftSeq is { } left
        ? edge.ExecuteAsync("insert into chat_members (chat_id, user_id, role, joined_seq, left_seq) values ($1, $2, 'member', 1, $3)", chat, user, left)
        : edge.ExecuteAsync("insert into chat_members (chat_id, user_id, role, joined_seq) values ($1, $2, 'member', 1)", chat, user);
}
