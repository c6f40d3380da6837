using System.Collections.Concurrent;
using System.Globalization;
using System.Net.WebSockets;
using Confluent.Kafka;
using Messaging.Client;
using Messaging.Contracts.Protocol;
using Messaging.Contracts.Topics;
using Messaging.Hosting.Kafka;
using Messaging.IntegrationTests.Harness;
using Microsoft.Extensions.DependencyInjection;

namespace Messaging.IntegrationTests.EndToEnd;

/// <summary>
/// Edge node 1 runs as its own OS process and is killed with SIGKILL mid-conversation: its users
/// reconnect to node 0 and sync. Nothing may be lost, the Router must stop routing to the dead
/// node once its leases ran out, and the node must serve again after a restart.
/// </summary>
public sealed class KilledEdgeTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    /// <summary>Short, so the dead node's sessions expire within the test.</summary>
    private const int LeaseSeconds = 3;

    private const int RoundsBeforeReconnect = 40;
    private const int RoundsAfterReconnect = 10;

    /// <summary>Every message and chat.updated frame a device received, across its connections (old and new).</summary>
    private readonly ConcurrentDictionary<string, ConcurrentQueue<ServerFrame>> _received = new(StringComparer.Ordinal);

    /// <summary>Per chat, the message ids each sender got <c>message.accepted</c> for, in the order it sent them.</summary>
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, ConcurrentQueue<string>>> _accepted = new(StringComparer.Ordinal);

    /// <summary>Set by the senders once the group chat has <see cref="AcceptedBeforeKill"/> messages: node 1 dies while they are still writing.</summary>
    private readonly TaskCompletionSource _underway = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private const int AcceptedBeforeKill = 20;

    private static readonly string[] ProbeKinds = ["probe", "fence"];

    private string _group = "";

    [Fact]
    public async Task Edge_node_killed_mid_conversation_loses_nothing_its_devices_resume_on_another_node_and_it_serves_again_after_restart()
    {
        await using var system = await ChatSystem.StartAsync(
            edgeNodes: 1,
            configure: s => s["Edge:SessionLeaseSeconds"] = LeaseSeconds.ToString(CultureInfo.InvariantCulture));
        var processes = new List<EdgeProcess>();
        try
        {
            var node1 = await EdgeProcess.StartAsync(system.Settings, node: 1);
            processes.Add(node1);

            var id = Guid.NewGuid().ToString("N")[..6];
            var (a0, a1, b0, b1, c) = ($"a0-{id}", $"a1-{id}", $"b0-{id}", $"b1-{id}", $"c-{id}");
            var clients = new Dictionary<string, ChatClient>(StringComparer.Ordinal)
            {
                [a0] = await system.ConnectAsync(0, a0, Device(a0), Recording(a0)),
                [a1] = await system.ConnectAsync(0, a1, Device(a1), Recording(a1)),
                [b0] = await system.ConnectAsync(node1.BaseAddress, b0, Device(b0), Recording(b0)),
                [b1] = await system.ConnectAsync(node1.BaseAddress, b1, Device(b1), Recording(b1)),
            };
            var cOnNode1 = await system.ConnectAsync(node1.BaseAddress, c, Device(c), Recording(c));

            // Users on node 1 chat with users on node 0: one group, one pair chat per node-1 user
            // (one created on each node), and a chat whose node-1 member never comes back.
            var group = _group = await clients[a0].CreateChatAsync([a1, b0, b1], "group");
            var pairA0B0 = await clients[a0].CreateChatAsync([b0], "a0+b0");
            var pairB1A1 = await clients[b1].CreateChatAsync([a1], "b1+a1");
            var leaseChat = await clients[a0].CreateChatAsync([c], "a0+c");
            var members = new Dictionary<string, string[]>(StringComparer.Ordinal)
            {
                [group] = [a0, a1, b0, b1],
                [pairA0B0] = [a0, b0],
                [pairB1A1] = [b1, a1],
            };
            foreach (var (chat, users) in members)
            {
                foreach (var user in users)
                {
                    await clients[user].WaitForAsync<ChatUpdatedFrame>(u => u.ChatId == chat, Timeout);
                }
            }

            await cOnNode1.WaitForAsync<ChatUpdatedFrame>(u => u.ChatId == leaseChat, Timeout);
            var pairOf = new Dictionary<string, string>(StringComparer.Ordinal) { [a0] = pairA0B0, [b0] = pairA0B0, [a1] = pairB1A1, [b1] = pairB1A1 };

            // Everyone writes; node 1 is killed once the conversation is under way. Node-1 senders
            // stop at their first failure (a send in flight at the kill may or may not be in the log:
            // the seq check below finds it either way).
            var phase1 = clients.Select(kv => ConverseAsync(kv.Value, kv.Key, [group, pairOf[kv.Key]], RoundsBeforeReconnect)).ToList();
            await _underway.Task.WaitAsync(Timeout);
            await node1.KillAsync();
            await Task.WhenAll(phase1);
            await Task.WhenAll(new[] { b0, b1, c }.Select(u => u == c ? cOnNode1.Closed : clients[u].Closed)).WaitAsync(Timeout);

            // The node-1 users come back on node 0 and sync: everything sent to them meanwhile is
            // in their inbox (the Router kept routing to node 1 until the leases ran out).
            foreach (var user in new[] { b0, b1 })
            {
                clients[user] = await system.ConnectAsync(0, user, Device(user), Recording(user));
                var done = await clients[user].RequestAsync<SyncDoneFrame>(new SyncFrame());
                done.Partial.Should().BeNull();
                done.Count.Should().BePositive("messages were written to it while its node was dead");
            }

            await Task.WhenAll(clients.Select(kv => ConverseAsync(kv.Value, kv.Key, [group, pairOf[kv.Key]], RoundsAfterReconnect)));

            // The last message of each chat: once every member device holds every seq up to it
            // (live pushes on node 0 included), nothing was lost.
            var last = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var chat in members.Keys)
            {
                var writer = clients[members[chat][0]];
                var accepted = await writer.SendMessageAsync(chat, "last");
                Accepted(chat).GetOrAdd(members[chat][0], _ => new ConcurrentQueue<string>()).Enqueue(accepted.MessageId);
                last[chat] = (await writer.WaitForAsync<MessageFrame>(m => m.MessageId == accepted.MessageId, Timeout)).Seq;
            }

            foreach (var (chat, users) in members)
            {
                foreach (var user in users)
                {
                    try
                    {
                        await Eventually.TrueAsync(() => Task.FromResult(Seqs(user, chat).Count == last[chat]), Timeout, $"{user} holding seqs 1..{last[chat]} of {chat}");
                    }
                    catch (TimeoutException ex)
                    {
                        var missing = Enumerable.Range(1, (int)last[chat]).Where(seq => !Seqs(user, chat).Contains(seq));
                        throw new TimeoutException($"{ex.Message}; missing seqs {string.Join(",", missing)}", ex);
                    }
                }

                AssertEveryDeviceHoldsTheSameMessagesOnceInSenderOrder(chat, users);
            }

            // The dead node's sessions expire with their lease: messages for a device last seen
            // on node 1 stop going to delivery.node-1 (they wait in its inbox).
            await AssertRoutingToNodeStopsAsync(system, clients[a0], leaseChat, node: 1);

            // A restarted node serves again: the device that never left it syncs there and gets live pushes.
            var node1Again = await EdgeProcess.StartAsync(system.Settings, node: 1);
            processes.Add(node1Again);
            var cAgain = await system.ConnectAsync(node1Again.BaseAddress, c, Device(c), Recording(c));
            var synced = await cAgain.SyncAsync();
            var sentToC = Accepted(leaseChat).Values.SelectMany(q => q).ToList();
            synced.Messages.Where(m => m.ChatId == leaseChat).Select(m => m.MessageId).Should().BeEquivalentTo(sentToC);
            var live = await clients[a0].SendMessageAsync(leaseChat, "welcome back");
            await cAgain.WaitForAsync<MessageFrame>(m => m.MessageId == live.MessageId, Timeout);
        }
        finally
        {
            foreach (var process in processes)
            {
                await process.DisposeAsync();
            }
        }
    }

    private static string Device(string user) => user + "-phone";

    private ChatClientOptions Recording(string user)
    {
        var frames = _received.GetOrAdd(user, _ => new ConcurrentQueue<ServerFrame>());
        return new ChatClientOptions
        {
            OnFrame = frame =>
            {
                if (frame is MessageFrame or ChatUpdatedFrame)
                {
                    frames.Enqueue(frame);
                }
            },
        };
    }

    private ConcurrentDictionary<string, ConcurrentQueue<string>> Accepted(string chat) =>
        _accepted.GetOrAdd(chat, _ => new ConcurrentDictionary<string, ConcurrentQueue<string>>(StringComparer.Ordinal));

    /// <summary>Sends <paramref name="rounds"/> messages to each chat; returns at the first failure of a connection that died.</summary>
    private async Task ConverseAsync(ChatClient client, string user, string[] chats, int rounds)
    {
        for (var round = 0; round < rounds; round++)
        {
            foreach (var chat in chats)
            {
                try
                {
                    var accepted = await client.SendMessageAsync(chat, $"{user} {round.ToString(CultureInfo.InvariantCulture)}");
                    Accepted(chat).GetOrAdd(user, _ => new ConcurrentQueue<string>()).Enqueue(accepted.MessageId);
                    if (chat == _group && Accepted(chat).Values.Sum(q => q.Count) >= AcceptedBeforeKill)
                    {
                        _underway.TrySetResult();
                    }
                }
                catch (Exception ex) when (ex is ChatConnectionClosedException or WebSocketException or TimeoutException or OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private HashSet<long> Seqs(string user, string chat) => [.. Frames(user, chat).Select(f => f.Seq)];

    private List<(long Seq, string? MessageId, string? SenderUserId)> Frames(string user, string chat) =>
        [.. _received[user].Select(f => f switch
        {
            MessageFrame m when m.ChatId == chat => (m.Seq, (string?)m.MessageId, (string?)m.Sender.UserId),
            ChatUpdatedFrame u when u.ChatId == chat => (u.Seq, null, null),
            _ => (0L, null, null),
        }).Where(f => f.Seq > 0)];

    private void AssertEveryDeviceHoldsTheSameMessagesOnceInSenderOrder(string chat, string[] users)
    {
        Dictionary<string, long>? reference = null;
        foreach (var user in users)
        {
            // Duplicates (a live push and the same event from the inbox) carry the same messageId and seq.
            var messages = Frames(user, chat).Where(f => f.MessageId is not null).DistinctBy(f => f.MessageId).ToList();
            messages.Select(m => m.Seq).Should().OnlyHaveUniqueItems($"{user} got each message of {chat} under one seq, and no seq twice");
            var bySeq = messages.ToDictionary(m => m.MessageId!, m => m.Seq, StringComparer.Ordinal);
            if (reference is null)
            {
                reference = bySeq;
            }
            else
            {
                bySeq.Should().BeEquivalentTo(reference, $"{user} got the same messages of {chat} with the same seqs as {users[0]}");
            }

            foreach (var (sender, sent) in Accepted(chat))
            {
                var ids = sent.ToList();
                ids.Should().OnlyContain(messageId => bySeq.ContainsKey(messageId), $"{user} got every message {sender} sent to {chat}");
                ids.Select(messageId => bySeq[messageId]).Should().BeInAscendingOrder($"{sender}'s messages are in the order {sender} sent them");
            }
        }
    }

    /// <summary>
    /// Sends a probe and then a fence to <paramref name="chat"/> until neither reached
    /// <c>delivery.node-{node}</c>. The fence is sent after the probe's push came back, so the
    /// Router decides it in a later batch, and it finishes a batch (every produce acknowledged)
    /// before it takes the next: once the fence is back, the probe's node record, if any, is in
    /// the topic's high watermark.
    /// </summary>
    private async Task AssertRoutingToNodeStopsAsync(ChatSystem system, ChatClient sender, string chat, int node)
    {
        var services = system.Edges[0].Services;
        var topic = services.GetRequiredService<TopicNames>().DeliveryNode(node);
        var config = services.GetRequiredService<KafkaClientFactory>().ConsumerConfig($"test-{Guid.NewGuid():N}", "test-watermarks");
        using var consumer = new ConsumerBuilder<string, byte[]>(config).Build();
        long High() => consumer.QueryWatermarkOffsets(new TopicPartition(topic, 0), TimeSpan.FromSeconds(10)).High.Value;

        var probes = 0;
        await Eventually.TrueAsync(
            async () =>
            {
                var before = High();
                foreach (var kind in ProbeKinds)
                {
                    var accepted = await sender.SendMessageAsync(chat, $"{kind} {(probes++).ToString(CultureInfo.InvariantCulture)}");
                    Accepted(chat).GetOrAdd("probe", _ => new ConcurrentQueue<string>()).Enqueue(accepted.MessageId);
                    await sender.WaitForAsync<MessageFrame>(m => m.MessageId == accepted.MessageId, Timeout);
                }

                return High() == before;
            },
            TimeSpan.FromSeconds(LeaseSeconds) + Timeout,
            $"the Router to stop routing to node {node} after its leases ({LeaseSeconds} s) ran out");
    }
}
