using System.Globalization;
using Messaging.Client;
using Messaging.Contracts.Protocol;
using Messaging.IntegrationTests.Harness;

namespace Messaging.IntegrationTests.EndToEnd;

/// <summary>
/// Two Router OS processes behind two Edge nodes; one Router is killed with SIGKILL while users
/// exchange messages over real sockets. Every device must still get every message, in seq order.
/// </summary>
public sealed class RouterFailoverEndToEndTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);
    private ChatSystem _system = null!;
    private readonly List<ServiceProcess> _routers = [];

    public async Task InitializeAsync()
    {
        _system = await ChatSystem.StartAsync(edgeNodes: 2, inProcessRouter: false);
        for (var i = 0; i < 2; i++)
        {
            _routers.Add(ServiceProcess.Start("Router", new Dictionary<string, string?>
            {
                ["Kafka__BootstrapServers"] = TestStack.KafkaBootstrap,
                ["Kafka__Profile"] = TestStack.KafkaProfile,
                ["Kafka__TopicPrefix"] = _system.Namespace.TopicPrefix,
                ["Cluster__EdgeNodes"] = _system.Settings["Cluster:EdgeNodes"]!,
                ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
                ["Logging__LogLevel__Default"] = "Information",
            }));
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var router in _routers)
        {
            await router.DisposeAsync();
        }

        await _system.DisposeAsync();
    }

    [Fact]
    public async Task A_Router_killed_while_messages_flow_loses_nothing_and_every_device_gets_every_message_in_order()
    {
        await Eventually.TrueAsync(
            () => Task.FromResult(_routers.All(r => r.Output.Contains("Assigned", StringComparison.Ordinal))),
            Timeout,
            "both Router processes owning partitions");

        var users = Enumerable.Range(0, 4).Select(i => $"f{i}-{Guid.NewGuid():N}"[..12]).ToArray();
        var clients = new List<ChatClient>();
        for (var i = 0; i < users.Length; i++)
        {
            clients.Add(await _system.ConnectAsync(i % 2, users[i], users[i] + "-phone"));
        }

        // Several chats, so both Routers own some of them.
        var chats = new List<string>();
        for (var c = 0; c < 6; c++)
        {
            chats.Add(await clients[c % 4].CreateChatAsync([.. users.Where((_, i) => i != c % 4)], "chat " + c));
        }

        const int PerChat = 40;
        var sent = chats.ToDictionary(c => c, _ => new List<string>());
        var flow = Task.Run(async () =>
        {
            for (var n = 0; n < PerChat; n++)
            {
                for (var c = 0; c < chats.Count; c++)
                {
                    var accepted = await clients[(c + n) % 4].SendMessageAsync(chats[c], n.ToString(CultureInfo.InvariantCulture));
                    sent[chats[c]].Add(accepted.MessageId);
                }
            }
        });

        // Kill one Router once messages are flowing through it.
        var early = await clients[0].WaitForAsync<MessageFrame>(m => m.Body == "5", Timeout);
        _routers[0].Kill();
        await flow;

        foreach (var client in clients)
        {
            foreach (var chat in chats)
            {
                var seen = new HashSet<string>(StringComparer.Ordinal);
                var seqs = new List<long>();
                var allSeqs = new List<long>();
                if (client == clients[0] && early.ChatId == chat)
                {
                    // Taken off the stream above to time the kill: counted, but not part of the arrival order.
                    seen.Add(early.MessageId);
                    allSeqs.Add(early.Seq);
                }

                while (seen.Count < PerChat)
                {
                    MessageFrame frame;
                    try
                    {
                        frame = await client.WaitForAsync<MessageFrame>(m => m.ChatId == chat, Timeout);
                    }
                    catch (TimeoutException ex)
                    {
                        var missing = sent[chat].Where(id => !seen.Contains(id)).ToList();
                        throw new TimeoutException(
                            $"client {clients.IndexOf(client)} got {seen.Count} of {PerChat} in chat {chats.IndexOf(chat)}; seqs {string.Join(",", seqs)}; missing {missing.Count}\n"
                            + string.Join("\n", _routers.Select((r, i) => $"--- router {i} ---\n{r.Output}")),
                            ex);
                    }

                    // Duplicates after the failover carry the same messageId and seq: clients drop them.
                    if (seen.Add(frame.MessageId))
                    {
                        seqs.Add(frame.Seq);
                    }
                }

                seen.Should().BeEquivalentTo(sent[chat]);
                seqs.Should().BeInAscendingOrder().And.OnlyHaveUniqueItems();
                allSeqs.AddRange(seqs);
                allSeqs.Should().OnlyHaveUniqueItems();
                (allSeqs.Max() - allSeqs.Min()).Should().Be(PerChat - 1, "message seqs are dense: nothing else happened in the chat meanwhile");
            }
        }
    }
}
