using Confluent.Kafka;
using Messaging.Contracts.Delivery;
using Messaging.Contracts.Events;
using Messaging.IntegrationTests.Harness;
using Messaging.Router.Routing;
using Microsoft.Extensions.DependencyInjection;
using static Messaging.IntegrationTests.Router.RouterTestBed;

namespace Messaging.IntegrationTests.Router;

/// <summary>Who owns which chats: restore after a stop, partitions split between two Routers.</summary>
public sealed class RouterOwnershipTests
{
    [Fact]
    public async Task A_second_Router_restores_chat_state_after_the_first_stopped_and_the_seq_continues_without_duplicates()
    {
        await using var bed = await CreateAsync();
        await bed.RegisterAsync("ana", "ana-d0");
        await bed.RegisterAsync("bo", "bo-d0");
        await bed.SessionAsync("bo", "bo-d0", 1);
        var events = bed.ReadEvents();
        var node1 = bed.ReadNode(1);
        var chat = NextId("g-");
        var first = await bed.StartRouterAsync();
        await bed.SendAsync(Group(chat, "ana", "bo"));
        var early = Send(chat, "bo", clientMsgId: "early", originNode: 1);
        await bed.SendManyAsync([early, Send(chat, "ana"), Send(chat, "bo")]);
        await Eventually.ReturnsAsync(events.Poll, l => l.Count(e => e.Key == chat) == 4, WaitLimit, "seq 1..4 from the first Router");
        await first.DisposeAsync();

        await bed.StartRouterAsync();
        await bed.SendManyAsync([Send(chat, "bo", clientMsgId: "early", originNode: 1), Send(chat, "ana"), Send(chat, "bo")]);

        var log = await Eventually.ReturnsAsync(events.Poll, l => l.Count(e => e.Key == chat) >= 6, WaitLimit, "seq 5..6 from the second Router");
        log.Where(e => e.Key == chat).Select(e => e.Value.Seq).Should().Equal(1, 2, 3, 4, 5, 6);
        log.Where(e => e.Key == chat).Select(e => e.Value).OfType<MessageSent>().Count(m => m.ClientMsgId == "early").Should().Be(1);
        var notices = await Eventually.ReturnsAsync(node1.Poll, l => l.Any(r => r.Value is DuplicateSendIgnored), WaitLimit, "the retry answered from the restored state");
        var duplicate = notices.Select(r => r.Value).OfType<DuplicateSendIgnored>().Single();
        duplicate.Seq.Should().Be(2);
        duplicate.MessageId.Should().Be(early.MessageId);
    }

    [Fact]
    public async Task Two_Routers_split_the_partitions_and_every_command_becomes_exactly_one_seq()
    {
        await using var bed = await CreateAsync();
        await bed.RegisterAsync("ana", "ana-d0");
        await bed.RegisterAsync("bo", "bo-d0");
        var events = bed.ReadEvents();
        var a = await bed.StartRouterAsync();
        var b = await bed.StartRouterAsync();
        var loopA = a.Services.GetRequiredService<RouterLoop>();
        var loopB = b.Services.GetRequiredService<RouterLoop>();

        // However many partitions the broker gave the (auto-created) command topic.
        using var admin = new AdminClientBuilder(bed.Clients.AdminConfig("router-tests")).Build();
        var partitions = admin.GetMetadata(bed.Topics.ChatCommands, TimeSpan.FromSeconds(10)).Topics.Single().Partitions.Count;
        await Eventually.TrueAsync(
            () => Task.FromResult(loopA.AssignedPartitions.Count > 0 && loopB.AssignedPartitions.Count > 0
                && loopA.AssignedPartitions.Count + loopB.AssignedPartitions.Count == partitions),
            WaitLimit, "both Routers owning partitions");
        loopA.AssignedPartitions.Should().NotIntersectWith(loopB.AssignedPartitions);

        var chats = Enumerable.Range(0, 24).Select(_ => NextId("g-")).ToList();
        await bed.SendManyAsync(chats.Select(c => Group(c, "ana", "bo")));
        await bed.SendManyAsync(chats.SelectMany(c => Enumerable.Range(0, 5).Select(i => Send(c, i % 2 == 0 ? "ana" : "bo"))));

        var log = await Eventually.ReturnsAsync(events.Poll, l => chats.All(c => l.Count(e => e.Key == c) >= 6), WaitLimit, "six events in every chat");
        foreach (var chat in chats)
        {
            log.Where(e => e.Key == chat).Select(e => e.Value.Seq).Should().Equal([1, 2, 3, 4, 5, 6], chat);
        }

        var metricsA = a.Services.GetRequiredService<RouterMetrics>().TotalCommands;
        var metricsB = b.Services.GetRequiredService<RouterMetrics>().TotalCommands;
        metricsA.Should().BePositive("both Routers did part of the work");
        metricsB.Should().BePositive("both Routers did part of the work");
    }
}
