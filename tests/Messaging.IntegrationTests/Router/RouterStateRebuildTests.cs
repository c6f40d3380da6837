using Messaging.Contracts.Commands;
using Messaging.Contracts.Delivery;
using Messaging.Contracts.Events;
using Messaging.IntegrationTests.Harness;
using Messaging.Router.Routing;
using static Messaging.IntegrationTests.Router.RouterTestBed;

namespace Messaging.IntegrationTests.Router;

/// <summary>
/// The Router's state is a cache of <c>chat.events</c>: a Router whose <c>chat.state</c> is lost
/// (pointed at a fresh, empty topic) rebuilds every chat from the log and goes on with the right
/// seq, the same de-duplication and the same membership (docs/router.md, "Rebuilding chat.state
/// from chat.events").
/// </summary>
public sealed class RouterStateRebuildTests
{
    [Fact]
    public async Task A_Router_that_lost_chat_state_rebuilds_it_from_chat_events_and_continues_every_chat_without_a_wrong_seq()
    {
        await using var bed = await CreateAsync();
        foreach (var user in new[] { "ana", "bo", "cy" })
        {
            await bed.RegisterAsync(user, $"{user}-d0");
        }

        await bed.SessionAsync("bo", "bo-d0", 1);
        await bed.SessionAsync("cy", "cy-d0", 1);
        var events = bed.ReadEvents();
        var node1 = bed.ReadNode(1);
        var group = NextId("g-");
        var direct = Contracts.ChatIds.Direct("ana", "bo");
        var first = await bed.StartRouterAsync();
        await bed.SendAsync(Group(group, "ana", "bo", "cy"));
        var early = Send(group, "bo", clientMsgId: "early", originNode: 1);
        await bed.SendManyAsync([early, Send(group, "ana"), Send(direct, "ana", peer: "bo"), Send(direct, "bo", peer: "ana")]);
        await bed.SendAsync(new LeaveChat { CommandId = NextId("cmd-"), ChatId = group, Origin = Device("ana"), OriginNode = 0, IssuedAt = DateTimeOffset.UtcNow });
        await Eventually.ReturnsAsync(events.Poll, l => l.Count(e => e.Key == group) == 4 && l.Count(e => e.Key == direct) == 3, WaitLimit, "both chats decided by the first Router");
        await first.DisposeAsync();

        // chat.state lost: the second Router starts on an empty topic of that role.
        var lost = new Dictionary<string, string?> { ["Router:ChatStateTopic"] = "chat.state.lost-" + NextId("") };
        await bed.StartRouterAsync(lost);
        var retry = Send(group, "bo", clientMsgId: "early", originNode: 1);
        await bed.SendManyAsync(
        [
            retry,
            Send(group, "cy"),
            Send(group, "ana", originNode: 1),
            Send(direct, "bo", peer: "ana"),
        ]);

        var log = await Eventually.ReturnsAsync(events.Poll, l => l.Count(e => e.Key == group) >= 5 && l.Count(e => e.Key == direct) >= 4, WaitLimit, "the rebuilt Router deciding both chats");
        log.Where(e => e.Key == group).Select(e => e.Value.Seq).Should().Equal(1, 2, 3, 4, 5);
        log.Where(e => e.Key == group).Select(e => e.Value).OfType<MessageSent>().Count(m => m.ClientMsgId == "early").Should().Be(1, "the retried send is found in the rebuilt recent-message index");
        log.Where(e => e.Key == direct).Select(e => e.Value.Seq).Should().Equal([1, 2, 3, 4], "the direct chat is not created a second time at seq 1");
        log.Where(e => e.Key == direct).Select(e => e.Value).OfType<ChatCreated>().Should().ContainSingle();

        var replies = await Eventually.ReturnsAsync(
            node1.Poll,
            l => l.Any(r => r.Value is DuplicateSendIgnored d && d.RequestId == retry.RequestId) && l.Any(r => r.Value is CommandRejected { ChatId: var c } && c == group),
            WaitLimit,
            "the retry answered as a duplicate and ana, who left, refused");
        // Commands the first Router decided but had not committed are decided again too: their sends are answered as duplicates as well.
        var duplicate = replies.Select(r => r.Value).OfType<DuplicateSendIgnored>().Single(d => d.RequestId == retry.RequestId);
        (duplicate.Seq, duplicate.MessageId).Should().Be((2L, early.MessageId));
        replies.Select(r => r.Value).OfType<CommandRejected>().Single(r => r.ChatId == group).Code.Should().Be("not_member");

        // The rebuilt states were written back between the two markers, so the next owner restores them.
        await using var stateTopic = new TopicReader<byte[]>(bed.Clients, bed.Topics.Prefix + lost["Router:ChatStateTopic"], b => b);
        var state = await Eventually.ReturnsAsync(
            stateTopic.Poll,
            l => l.Any(r => r.Key == group) && l.Any(r => r.Key == direct) && l.Any(r => r.Key == ChatStateRebuilder.MarkerKey),
            WaitLimit,
            "rebuilt states and the rebuild marker in the new chat.state");
        System.Text.Encoding.UTF8.GetString(state.Last(r => r.Key == ChatStateRebuilder.MarkerKey).Value).Should().Be("finished");
    }
}
