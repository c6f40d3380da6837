using System.Text;
using Messaging.Contracts.Delivery;
using Messaging.Contracts.Events;
using Messaging.Contracts.Protocol;
using Messaging.IntegrationTests.Harness;
using static Messaging.IntegrationTests.Router.RouterTestBed;

namespace Messaging.IntegrationTests.Router;

/// <summary>
/// One Router, hosted in-process on the real broker, shared by the tests of this class (each test
/// uses its own chats). Devices: ana has a phone online on node 0 and a laptop online on node 2;
/// bo's phone is online on node 2; cy's phone is offline; di's phone's lease ran out on node 1.
/// </summary>
public sealed class RoutingFixture : IAsyncLifetime
{
    internal RouterTestBed Bed { get; private set; } = null!;

    internal ServiceHost Router { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Bed = await CreateAsync();
        await Bed.RegisterAsync("ana", "ana-d0", "ana-d1");
        await Bed.RegisterAsync("bo", "bo-d0");
        await Bed.RegisterAsync("cy", "cy-d0");
        await Bed.RegisterAsync("di", "di-d0");
        await Bed.SessionAsync("ana", "ana-d0", 0);
        await Bed.SessionAsync("ana", "ana-d1", 2, DateTimeOffset.UtcNow.AddHours(1));
        await Bed.SessionAsync("bo", "bo-d0", 2);
        await Bed.SessionAsync("cy", "cy-d0", 3);
        await Bed.SessionAsync("cy", "cy-d0", null);
        await Bed.SessionAsync("di", "di-d0", 1, DateTimeOffset.UtcNow.AddMinutes(-1));
        Router = await Bed.StartRouterAsync();
    }

    public async Task DisposeAsync() => await Bed.DisposeAsync();
}

public sealed class RouterRoutingTests(RoutingFixture fixture) : IClassFixture<RoutingFixture>
{
    private RouterTestBed Bed => fixture.Bed;

    [Fact]
    public async Task A_sent_message_is_appended_to_chat_events_and_routed_once_per_node_to_its_online_devices()
    {
        var chat = NextId("g-");
        var events = Bed.ReadEvents();
        var nodes = Enumerable.Range(0, EdgeNodes).Select(Bed.ReadNode).ToArray();
        await Bed.SendAsync(Group(chat, "ana", "bo", "cy", "di"));
        var send = Send(chat, "bo", body: "hi all");
        await Bed.SendAsync(send);

        var log = await Eventually.ReturnsAsync(events.Poll, l => l.Count(e => e.Key == chat) >= 2, WaitLimit, "ChatCreated and MessageSent");
        var sent = log.Where(e => e.Key == chat).Select(e => e.Value).OfType<MessageSent>().Single();
        sent.Seq.Should().Be(2);
        sent.MessageId.Should().Be(send.MessageId);

        var node0 = await Eventually.ReturnsAsync(nodes[0].Poll, l => Routed(l, chat, 2).Count > 0, WaitLimit, "delivery to node 0");
        var node2 = await Eventually.ReturnsAsync(nodes[2].Poll, l => Routed(l, chat, 2).Count > 0, WaitLimit, "delivery to node 2");
        Routed(node0, chat, 2).Should().ContainSingle().Which.Devices.Should().Equal("ana/ana-d0");
        Routed(node2, chat, 2).Should().ContainSingle().Which.Devices.Should().BeEquivalentTo("ana/ana-d1", "bo/bo-d0");
        Routed(node2, chat, 2).Single().Event.Should().BeOfType<MessageSent>().Which.Body.Should().Be("hi all");

        // Offline (cy) and expired-lease (di) devices get nothing live: nodes 1 and 3 hear nothing of this chat.
        (await nodes[1].Poll()).Should().NotContain(r => r.Key == chat);
        (await nodes[3].Poll()).Should().NotContain(r => r.Key == chat);
    }

    [Fact]
    public async Task A_refusal_reaches_only_the_origin_node_and_nothing_reaches_chat_events()
    {
        var chat = NextId("g-");
        var events = Bed.ReadEvents();
        var nodes = Enumerable.Range(0, EdgeNodes).Select(Bed.ReadNode).ToArray();
        await Bed.SendAsync(Group(chat, "ana", "bo"));
        var intruder = Send(chat, "cy", originNode: 3);
        await Bed.SendAsync(intruder);
        var tooLarge = Send(chat, "bo", body: new string('x', 65537), originNode: 1);
        await Bed.SendAsync(tooLarge);
        // A marker after the refusals: once it is routed, the refusals were decided too.
        await Bed.SendAsync(Send(chat, "ana", body: "marker"));

        await Eventually.ReturnsAsync(events.Poll, l => l.Any(e => e.Key == chat && e.Value is MessageSent { Body: "marker" }), WaitLimit, "the marker message");
        var rejected3 = await Eventually.ReturnsAsync(nodes[3].Poll, l => l.Any(r => r.Value is CommandRejected c && c.CommandId == intruder.CommandId), WaitLimit, "the not_member refusal on node 3");
        var rejected1 = await Eventually.ReturnsAsync(nodes[1].Poll, l => l.Any(r => r.Value is CommandRejected c && c.CommandId == tooLarge.CommandId), WaitLimit, "the too_large refusal on node 1");

        var notMember = rejected3.Select(r => r.Value).OfType<CommandRejected>().Single(c => c.CommandId == intruder.CommandId);
        notMember.Code.Should().Be(ErrorCodes.NotMember);
        notMember.Devices.Should().Equal("cy/cy-d0");
        notMember.RequestId.Should().Be(intruder.RequestId);
        rejected1.Select(r => r.Value).OfType<CommandRejected>().Single(c => c.CommandId == tooLarge.CommandId).Code.Should().Be(ErrorCodes.TooLarge);

        (await events.Poll()).Where(e => e.Key == chat).Select(e => e.Value.Seq).Should().Equal(1, 2);
        (await nodes[0].Poll()).Should().NotContain(r => r.Value is CommandRejected);
        (await nodes[2].Poll()).Should().NotContain(r => r.Value is CommandRejected);
    }

    [Fact]
    public async Task A_retried_send_gets_no_second_seq_and_the_sender_hears_the_original_position()
    {
        var chat = NextId("g-");
        var events = Bed.ReadEvents();
        var node2 = Bed.ReadNode(2);
        await Bed.SendAsync(Group(chat, "ana", "bo"));
        var first = Send(chat, "bo", clientMsgId: "retry-me", originNode: 2);
        await Bed.SendAsync(first);
        await Bed.SendAsync(Send(chat, "bo", clientMsgId: "retry-me", originNode: 2));
        await Bed.SendAsync(Send(chat, "ana", body: "marker"));

        var log = await Eventually.ReturnsAsync(events.Poll, l => l.Any(e => e.Key == chat && e.Value is MessageSent { Body: "marker" }), WaitLimit, "the marker message");
        var deliveries = await Eventually.ReturnsAsync(node2.Poll, l => l.Any(r => r.Value is DuplicateSendIgnored d && d.ChatId == chat), WaitLimit, "the duplicate notice");

        log.Where(e => e.Key == chat).Select(e => e.Value).OfType<MessageSent>().Select(m => (m.ClientMsgId, m.Seq))
            .Should().Equal(("retry-me", 2L), (((MessageSent)log.Last(e => e.Key == chat).Value).ClientMsgId, 3L));
        var duplicate = deliveries.Select(r => r.Value).OfType<DuplicateSendIgnored>().Single(d => d.ChatId == chat);
        duplicate.Seq.Should().Be(2);
        duplicate.MessageId.Should().Be(first.MessageId);
        duplicate.Devices.Should().Equal("bo/bo-d0");
    }

    [Fact]
    public async Task A_first_direct_message_creates_the_chat_and_reaches_both_users()
    {
        var chat = "d:ana:bo";
        var events = Bed.ReadEvents();
        var node2 = Bed.ReadNode(2);
        await Bed.SendAsync(Send(chat, "bo", peer: "ana", body: "psst"));

        var log = await Eventually.ReturnsAsync(events.Poll, l => l.Count(e => e.Key == chat) >= 2, WaitLimit, "the direct chat's first events");

        log.Where(e => e.Key == chat).Select(e => e.Value.GetType().Name).Should().Equal("ChatCreated", "MessageSent");
        log.Single(e => e.Key == chat && e.Value is MessageSent).Value.Should().BeOfType<MessageSent>().Which.Body.Should().Be("psst");
        // Both users' online devices on node 2 (ana-d1, bo-d0) get it live.
        var routed = await Eventually.ReturnsAsync(node2.Poll, l => Routed(l, chat, 2).Count > 0, WaitLimit, "delivery to node 2");
        Routed(routed, chat, 2).Should().ContainSingle().Which.Devices.Should().BeEquivalentTo("ana/ana-d1", "bo/bo-d0");
    }

    [Fact]
    public async Task A_poison_command_is_parked_in_the_dead_letter_topic_and_the_partition_keeps_moving()
    {
        var chat = NextId("g-");
        var events = Bed.ReadEvents();
        var dead = Bed.ReadDeadLetters();
        // Same key as the chat: the poison sits in the chat's partition, right before its next command.
        await Bed.SendRawAsync(chat, Encoding.UTF8.GetBytes("{ this is not json"));
        await Bed.SendRawAsync(chat, Encoding.UTF8.GetBytes("{\"type\":\"WarpChat\",\"v\":1}"));
        await Bed.SendAsync(Group(chat, "ana", "bo"));

        await Eventually.ReturnsAsync(events.Poll, l => l.Any(e => e.Key == chat), WaitLimit, "the chat created after the poison");
        var parked = await Eventually.ReturnsAsync(dead.Poll, l => l.Count(p => p.Value.Key == chat) >= 2, WaitLimit, "both poison records parked");

        var mine = parked.Select(p => p.Value).Where(p => p.Key == chat).ToList();
        mine.Should().HaveCount(2);
        mine[0].Reason.Should().StartWith("Malformed");
        mine[1].Reason.Should().StartWith("UnknownType");
        mine.Should().OnlyContain(p => p.Consumer == "router" && p.SourceTopic == Bed.Topics.ChatCommands);
        Encoding.UTF8.GetString(mine[0].Value).Should().Be("{ this is not json");
    }

    [Fact]
    public async Task A_device_registered_and_announced_online_just_before_a_send_is_among_its_recipients_every_time()
    {
        // Read-your-writes of the directory: the Router asks the directory topics' ends before each
        // batch (never a cached watermark), so an acknowledged registration and session are seen
        // by the very next command. Ten rounds, each with no pause between the acks and the send.
        var node3 = Bed.ReadNode(3);
        for (var round = 0; round < 10; round++)
        {
            var chat = NextId("g-");
            var eve = NextId("eve-");
            await Bed.SendAsync(Group(chat, "bo", eve));
            await Bed.RegisterAsync(eve, eve + "-d0");
            await Bed.SessionAsync(eve, eve + "-d0", 3, DateTimeOffset.UtcNow.AddHours(1));
            await Bed.SendAsync(Send(chat, "bo", body: "right after"));

            var routed = await Eventually.ReturnsAsync(node3.Poll, l => Routed(l, chat, 2).Count > 0, WaitLimit, "delivery to node 3");
            Routed(routed, chat, 2).Should().ContainSingle().Which.Devices.Should().Equal($"{eve}/{eve}-d0");
        }
    }

    [Fact]
    public async Task Readiness_turns_healthy_once_the_device_directory_caught_up()
    {
        using var http = new HttpClient { BaseAddress = fixture.Router.BaseAddress };

        await Eventually.TrueAsync(async () => (await http.GetAsync(new Uri("/health/ready", UriKind.Relative))).IsSuccessStatusCode, WaitLimit, "/health/ready");
        (await http.GetAsync(new Uri("/health/live", UriKind.Relative))).IsSuccessStatusCode.Should().BeTrue();
    }

    private static List<EventRouted> Routed(List<(string Key, NodeDelivery Value)> records, string chat, long seq) =>
        records.Where(r => r.Key == chat).Select(r => r.Value).OfType<EventRouted>().Where(r => r.Event.Seq == seq).ToList();
}
