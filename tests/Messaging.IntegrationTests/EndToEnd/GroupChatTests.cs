using Messaging.Client;
using Messaging.Contracts.Protocol;
using Messaging.IntegrationTests.Harness;

namespace Messaging.IntegrationTests.EndToEnd;

/// <summary>Issue 3 through real sockets: fan-out to every device of every member, order, membership.</summary>
public sealed class GroupChatTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private ChatSystem _system = null!;

    public async Task InitializeAsync() => _system = await ChatSystem.StartAsync(edgeNodes: 2);

    public async Task DisposeAsync() => await _system.DisposeAsync();

    [Fact]
    public async Task Every_device_of_every_member_receives_every_group_and_direct_message_once_in_seq_order()
    {
        // Four users with two devices each, the devices of each user on different nodes.
        var users = Enumerable.Range(0, 4).Select(i => Unique("u" + i)).ToArray();
        var devices = new List<(string User, ChatClient Client)>();
        foreach (var user in users)
        {
            devices.Add((user, await _system.ConnectAsync(0, user, user + "-a")));
            devices.Add((user, await _system.ConnectAsync(1, user, user + "-b")));
        }

        var creator = devices[0].Client;
        var groupId = await creator.CreateChatAsync(users[1..], "Group");
        var sent = new List<string>();
        for (var round = 0; round < 3; round++)
        {
            foreach (var (user, client) in devices.Where((_, i) => i % 2 == round % 2))
            {
                sent.Add((await client.SendMessageAsync(groupId, $"{user} round {round}")).MessageId);
            }
        }

        var direct = await devices[2].Client.SendDirectMessageAsync(users[3], "just us");

        foreach (var (user, client) in devices)
        {
            var received = await ReceiveDistinctAsync(client, groupId, sent.Count, $"device {devices.FindIndex(d => d.Client == client)} of {user}");
            received.Select(m => m.MessageId).Should().BeEquivalentTo(sent);
            received.Select(m => m.Seq).Should().BeInAscendingOrder().And.OnlyHaveUniqueItems();
        }

        foreach (var (user, client) in devices)
        {
            if (user == users[1] || user == users[3])
            {
                var got = await client.WaitForAsync<MessageFrame>(m => m.MessageId == direct.MessageId, Timeout);
                got.Body.Should().Be("just us");
            }
        }
    }

    [Fact]
    public async Task Concurrent_senders_into_one_chat_are_seen_in_the_same_order_by_every_device()
    {
        var users = Enumerable.Range(0, 3).Select(i => Unique("c" + i)).ToArray();
        var clients = new List<ChatClient>();
        for (var i = 0; i < users.Length; i++)
        {
            clients.Add(await _system.ConnectAsync(i % 2, users[i], users[i] + "-phone"));
        }

        var chatId = await clients[0].CreateChatAsync(users[1..], "Race");
        await Task.WhenAll(clients.Select(async (client, i) =>
        {
            for (var n = 0; n < 10; n++)
            {
                await client.SendMessageAsync(chatId, $"{i}:{n}");
            }
        }));

        var orders = new List<List<string>>();
        foreach (var client in clients)
        {
            var received = await ReceiveDistinctAsync(client, chatId, 30, "client " + clients.IndexOf(client));
            received.Select(m => m.Seq).Should().BeInAscendingOrder("a device sees a chat in seq order");
            orders.Add(received.Select(m => m.MessageId).ToList());
        }

        orders[1].Should().Equal(orders[0]);
        orders[2].Should().Equal(orders[0]);
    }

    [Fact]
    public async Task Removed_member_receives_nothing_sent_after_removal_and_added_member_receives_from_the_add_on()
    {
        var (ana, bo, cy) = (Unique("ana"), Unique("bo"), Unique("cy"));
        var anaPhone = await _system.ConnectAsync(0, ana, ana + "-phone");
        var boPhone = await _system.ConnectAsync(1, bo, bo + "-phone");
        var cyPhone = await _system.ConnectAsync(1, cy, cy + "-phone");

        var chatId = await anaPhone.CreateChatAsync([bo], "Members");
        var before = await anaPhone.SendMessageAsync(chatId, "before");
        await boPhone.WaitForAsync<MessageFrame>(m => m.MessageId == before.MessageId, Timeout);

        await anaPhone.RemoveMemberAsync(chatId, bo);
        var removed = await boPhone.WaitForAsync<ChatUpdatedFrame>(u => u.ChatId == chatId && u.Change == "member.removed", Timeout);
        await anaPhone.AddMembersAsync(chatId, [cy]);
        var added = await cyPhone.WaitForAsync<ChatUpdatedFrame>(u => u.ChatId == chatId && u.Change == "members.added", Timeout);
        added.Seq.Should().BeGreaterThan(removed.Seq);

        var after = await anaPhone.SendMessageAsync(chatId, "after");
        var atCy = await cyPhone.WaitForAsync<MessageFrame>(m => m.ChatId == chatId, Timeout);
        atCy.MessageId.Should().Be(after.MessageId, "the added member's first message is the one sent after the add");

        // cy and bo are on the same node: the record that reached cy would have listed bo's device
        // too. A ping answered after it proves nothing for bo was queued before.
        await boPhone.PingAsync();
        await FluentActions.Awaiting(() => boPhone.WaitForAsync<MessageFrame>(m => m.MessageId == after.MessageId, TimeSpan.FromMilliseconds(300)))
            .Should().ThrowAsync<TimeoutException>();

        // The Router's refusal may overtake Edge's accepted (docs/protocol.md): either order is a refusal.
        try
        {
            await boPhone.SendMessageAsync(chatId, "can I still write?");
            await boPhone.WaitForAsync<ErrorFrame>(e => e.Code == ErrorCodes.NotMember, Timeout);
        }
        catch (ChatServerException refused)
        {
            refused.Error.Code.Should().Be(ErrorCodes.NotMember);
        }

        // History is the chat read model, behind the pushes above: wait for "after" to be projected.
        var history = await Projected.MessageAsync(anaPhone, chatId, after.MessageId, Timeout);
        history.Messages.Select(m => m.Body).Should().Contain("after").And.NotContain("can I still write?");
    }

    private static async Task<List<MessageFrame>> ReceiveDistinctAsync(ChatClient client, string chatId, int count, string who)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var result = new List<MessageFrame>();
        while (result.Count < count)
        {
            MessageFrame frame;
            try
            {
                frame = await client.WaitForAsync<MessageFrame>(m => m.ChatId == chatId, Timeout);
            }
            catch (TimeoutException ex)
            {
                throw new TimeoutException($"{who} got {result.Count} of {count} messages", ex);
            }

            if (seen.Add(frame.MessageId))
            {
                result.Add(frame);
            }
        }

        return result;
    }

    private static string Unique(string name) => name + "-" + Guid.NewGuid().ToString("N")[..6];
}
