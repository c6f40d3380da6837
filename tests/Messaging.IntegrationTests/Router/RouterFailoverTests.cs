using System.Text.RegularExpressions;
using Confluent.Kafka;
using Messaging.Contracts.Commands;
using Messaging.Contracts.Delivery;
using Messaging.Contracts.Events;
using Messaging.IntegrationTests.Harness;
using Xunit.Abstractions;
using static Messaging.IntegrationTests.Router.RouterTestBed;

namespace Messaging.IntegrationTests.Router;

/// <summary>Two Router processes; one is killed with SIGKILL while commands flow.</summary>
public sealed partial class RouterFailoverTests(ITestOutputHelper output)
{
    private const int Users = 10;
    private const int Chats = 20;
    private const int Sends = 1500;

    [Fact]
    public async Task A_Router_killed_mid_stream_loses_nothing_and_every_command_becomes_exactly_one_seq()
    {
        await using var bed = await CreateAsync();
        // Device d0 of user u is online on node u % 4; device d1 is registered but offline.
        for (var u = 0; u < Users; u++)
        {
            await bed.RegisterAsync($"u{u}", $"u{u}-d0", $"u{u}-d1");
            await bed.SessionAsync($"u{u}", $"u{u}-d0", u % EdgeNodes);
        }

        var events = bed.ReadEvents();
        var nodes = Enumerable.Range(0, EdgeNodes).Select(bed.ReadNode).ToArray();
        var victim = bed.StartRouterProcess();
        var survivor = bed.StartRouterProcess();
        await Eventually.TrueAsync(() => Task.FromResult(Assigned(victim) && Assigned(survivor)), WaitLimit, "both Router processes owning partitions");

        var chats = Enumerable.Range(0, Chats).Select(c => NextId("g-")).ToList();
        var members = chats.ToDictionary(c => c, c => Enumerable.Range(0, 4).Select(i => $"u{(chats.IndexOf(c) + i) % Users}").ToArray());
        await bed.SendManyAsync(chats.Select(c => Group(c, members[c][0], members[c][1..])));

        // Sends in small chunks, with some client retries (same clientMsgId again) mixed in.
        var random = new Random(7);
        var sends = new List<SendMessage>();
        for (var i = 0; i < Sends; i++)
        {
            var chat = chats[random.Next(Chats)];
            var retryOf = i > 50 && random.Next(10) == 0 ? sends[random.Next(sends.Count)] : null;
            sends.Add(retryOf is not null
                ? Send(retryOf.ChatId, retryOf.Origin.UserId, clientMsgId: retryOf.ClientMsgId)
                : Send(chat, members[chat][random.Next(4)], body: "m" + i));
        }

        // Commands keep flowing from another task while the victim is killed.
        var flow = Task.Run(async () =>
        {
            for (var i = 0; i < sends.Count; i += 25)
            {
                await bed.SendManyAsync(sends.Skip(i).Take(25));
            }
        });
        await Eventually.ReturnsAsync(events.Poll, l => l.Count > Sends / 4, WaitLimit, "events flowing before the kill");
        victim.Kill();
        var eventsAtKill = (await events.Poll()).Count;
        await flow;
        flow.IsCompleted.Should().BeTrue();

        // One more send per chat after the kill: on a fast run the victim had decided all of its
        // partitions' sends before it died (the survivor then never needed them within the
        // session timeout: seen once in CI), so these make the takeover part of what is checked.
        var afterKill = chats.Select(c => Send(c, members[c][0], body: "after the kill")).ToList();
        sends.AddRange(afterKill);
        await bed.SendManyAsync(afterKill);

        var expectedClientIds = sends.GroupBy(s => s.ChatId).ToDictionary(g => g.Key, g => g.Select(s => s.ClientMsgId).ToHashSet());
        var log = await Eventually.ReturnsAsync(
            events.Poll,
            l => expectedClientIds.All(kv => l.Where(e => e.Key == kv.Key).Select(e => e.Value).OfType<MessageSent>().Select(m => m.ClientMsgId).Distinct().Count() == kv.Value.Count),
            TimeSpan.FromSeconds(120),
            "every send decided after the failover");

        foreach (var chat in chats)
        {
            var chatEvents = log.Where(e => e.Key == chat).Select(e => e.Value).ToList();
            // Re-decided after the kill, an event may be appended twice, but only as the very same event.
            var bySeq = chatEvents.GroupBy(e => e.Seq).ToList();
            bySeq.Select(g => g.Key).Order().Should().Equal(Enumerable.Range(1, bySeq.Count).Select(s => (long)s), $"{chat}: seqs are dense from 1");
            foreach (var group in bySeq)
            {
                group.Select(Identity).Distinct().Should().ContainSingle($"{chat} seq {group.Key} names one event");
            }

            var sent = chatEvents.OfType<MessageSent>().DistinctBy(m => m.Seq).ToList();
            sent.Select(m => m.ClientMsgId).Should().OnlyHaveUniqueItems($"{chat}: a clientMsgId gets exactly one seq");
            sent.Select(m => m.ClientMsgId).Should().BeEquivalentTo(expectedClientIds[chat], $"{chat}: every send got a seq");
            sent.Select(m => m.MessageId).Should().OnlyHaveUniqueItems();
        }

        // Every event reached each node that holds one of its online devices (d0 of each member;
        // membership never changes here, and chat.events v3 names no recipients).
        var expected = log.Select(e => e.Value).DistinctBy(e => (e.ChatId, e.Seq))
            .SelectMany(e => members[e.ChatId]
                .Select(u => (Node: int.Parse(u[1..], System.Globalization.CultureInfo.InvariantCulture) % EdgeNodes, e.ChatId, e.Seq)))
            .Distinct().ToList();
        for (var k = 0; k < EdgeNodes; k++)
        {
            var node = k;
            var want = expected.Where(x => x.Node == node).Select(x => (x.ChatId, x.Seq)).ToHashSet();
            List<(string Key, NodeDelivery Value)> delivered;
            try
            {
                delivered = await Eventually.ReturnsAsync(
                    nodes[k].Poll,
                    l => want.IsSubsetOf(l.Select(r => r.Value).OfType<EventRouted>().Select(r => (r.Event.ChatId, r.Event.Seq))),
                    WaitLimit,
                    $"every event routed to node {k}");
            }
            catch (TimeoutException)
            {
                var seen = (await nodes[k].Poll()).Select(r => r.Value).OfType<EventRouted>().Select(r => (r.Event.ChatId, r.Event.Seq)).ToHashSet();
                output.WriteLine($"node {k} misses: {string.Join(", ", want.Where(w => !seen.Contains(w)).Take(40))}");
                output.WriteLine("victim:\n" + victim.Output);
                output.WriteLine("survivor:\n" + survivor.Output);
                throw;
            }

            var routed = delivered.Select(r => r.Value).OfType<EventRouted>().ToList();
            routed.Should().OnlyContain(r => r.Devices.All(d => d.EndsWith("-d0", StringComparison.Ordinal)), "offline devices get no live delivery");
            foreach (var group in routed.GroupBy(r => (r.Event.ChatId, r.Event.Seq)))
            {
                group.Select(r => Identity(r.Event)).Distinct().Should().ContainSingle($"node {node}: duplicates of {group.Key} are the same event");
            }
        }

        survivor.HasExited.Should().BeFalse(survivor.Output);
        using var admin = new AdminClientBuilder(bed.Clients.AdminConfig("router-tests")).Build();
        var partitions = admin.GetMetadata(bed.Topics.ChatCommands, TimeSpan.FromSeconds(10)).Topics.Single().Partitions.Count;
        await Eventually.TrueAsync(
            () => Task.FromResult(AssignedLine().Matches(survivor.Output).Any(m => m.Value == $"Assigned {partitions} partitions")),
            WaitLimit,
            "the survivor taking over the victim's partitions");
        var duplicates = log.Count - log.Select(e => (e.Value.ChatId, e.Value.Seq)).Distinct().Count();
        output.WriteLine($"events at kill: {eventsAtKill}, events total: {log.Count}, re-appended duplicates: {duplicates}");
    }

    [Fact]
    public async Task A_Router_killed_before_its_first_flush_is_redone_with_its_pushes_not_rebuilt_from_its_events()
    {
        await using var bed = await CreateAsync();
        foreach (var user in new[] { "ana", "bo" })
        {
            await bed.RegisterAsync(user, $"{user}-d0");
            await bed.SessionAsync(user, $"{user}-d0", 1);
        }

        var events = bed.ReadEvents();
        var node1 = bed.ReadNode(1);
        // The longest flush interval: this owner writes no state and commits nothing before it dies.
        var victim = bed.StartRouterProcess(new Dictionary<string, string?> { ["Router__StateFlushMs"] = "60000" });
        await Eventually.TrueAsync(() => Task.FromResult(Assigned(victim)), WaitLimit, "the first Router owning partitions");
        var chat = NextId("g-");
        await bed.SendAsync(Group(chat, "ana", "bo"));
        await bed.SendManyAsync([Send(chat, "ana", body: "one"), Send(chat, "bo", body: "two"), Send(chat, "ana", body: "three")]);
        await Eventually.ReturnsAsync(events.Poll, l => l.Count(e => e.Key == chat) == 4, WaitLimit, "the first Router deciding the chat");
        await victim.KillAsync();

        var next = bed.StartRouterProcess();
        await bed.SendAsync(Send(chat, "bo", body: "after the kill"));
        var log = await Eventually.ReturnsAsync(events.Poll, l => l.Any(e => e.Key == chat && e.Value.Seq == 5), TimeSpan.FromSeconds(120), "the next Router deciding the chat");

        // Its chat.state was marked when the first owner took the partition, so the next owner
        // restores it (empty) and decides the four commands again rather than answering them as
        // duplicates of events whose pushes it cannot know were sent.
        var chatEvents = log.Where(e => e.Key == chat).Select(e => e.Value).ToList();
        chatEvents.GroupBy(e => e.Seq).Should().OnlyContain(g => g.Select(Identity).Distinct().Count() == 1, "a seq decided again names the same event");
        chatEvents.Count(e => e.Seq <= 4).Should().Be(8, "the four commands were decided again and appended once more");
        await Eventually.ReturnsAsync(
            node1.Poll,
            l => Enumerable.Range(1, 4).All(seq => l.Select(r => r.Value).OfType<EventRouted>().Count(r => r.Event.ChatId == chat && r.Event.Seq == seq) >= 2),
            WaitLimit,
            "the decided-again events pushed to node 1 again");
        next.Output.Should().NotContain("rebuilt", "an owner that died before its first flush left a marked, not a lost, chat.state");
    }

    private static string Identity(ChatEvent e) => e switch
    {
        MessageSent m => $"{m.Seq}:{m.MessageId}:{m.ClientMsgId}",
        _ => $"{e.Seq}:{e.GetType().Name}",
    };

    private static bool Assigned(ServiceProcess process) => AssignedLine().IsMatch(process.Output);

    [GeneratedRegex(@"Assigned [1-9]\d* partitions")]
    private static partial Regex AssignedLine();
}
