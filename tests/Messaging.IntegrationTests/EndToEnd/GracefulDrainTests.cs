using System.Collections.Concurrent;
using System.Globalization;
using System.Net.WebSockets;
using Messaging.Client;
using Messaging.Contracts;
using Messaging.Contracts.Devices;
using Messaging.Contracts.Protocol;
using Messaging.Contracts.Serialization;
using Messaging.Contracts.Topics;
using Messaging.Hosting.Kafka;
using Messaging.IntegrationTests.Harness;
using Messaging.IntegrationTests.Router;
using Microsoft.Extensions.DependencyInjection;

namespace Messaging.IntegrationTests.EndToEnd;

/// <summary>
/// SIGTERM under a small load (docs/operations.md, "Graceful drain"): an Edge node withdraws its
/// sessions, closes its sockets with 1001 and the other node's URL, and exits; its clients
/// reconnect there and sync, and nothing is lost. A Router stopped with SIGTERM flushes and
/// commits what it decided, so its successor decides nothing twice: no seq appears twice in
/// <c>chat.events</c>.
/// </summary>
public sealed class GracefulDrainTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    /// <summary>Long: the Router must stop routing to the drained node because it withdrew its sessions, not because they expired.</summary>
    private const int LeaseSeconds = 120;

    private readonly ConcurrentDictionary<string, ConcurrentQueue<MessageFrame>> _received = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _accepted = new();

    [Fact]
    public async Task An_Edge_node_stopped_with_SIGTERM_sends_its_clients_to_another_node_with_1001_withdraws_its_sessions_and_nothing_is_lost()
    {
        await using var system = await ChatSystem.StartAsync(
            edgeNodes: 1,
            configure: s => s["Edge:SessionLeaseSeconds"] = LeaseSeconds.ToString(CultureInfo.InvariantCulture));
        var node0 = new UriBuilder(system.Edges[0].BaseAddress) { Scheme = "ws", Path = "/ws" }.Uri;
        var settings = new Dictionary<string, string?>(system.Settings) { ["Edge:DrainReconnectUrl"] = node0.ToString() };
        await using var node1 = await EdgeProcess.StartAsync(settings, node: 1);

        var id = Guid.NewGuid().ToString("N")[..6];
        var onNode1 = Enumerable.Range(0, 3).Select(i => $"n1u{i}-{id}").ToArray();
        var onNode0 = Enumerable.Range(0, 3).Select(i => $"n0u{i}-{id}").ToArray();
        var clients = new ConcurrentDictionary<string, ChatClient>(StringComparer.Ordinal);
        foreach (var user in onNode1)
        {
            clients[user] = await system.ConnectAsync(node1.BaseAddress, user, user + "-phone", Recording(user));
        }

        foreach (var user in onNode0)
        {
            clients[user] = await system.ConnectAsync(0, user, user + "-phone", Recording(user));
        }

        var everyone = onNode1.Concat(onNode0).ToArray();
        var group = await clients[onNode0[0]].CreateChatAsync([.. everyone.Where(u => u != onNode0[0])], "drain");
        foreach (var user in everyone)
        {
            await clients[user].WaitForAsync<ChatUpdatedFrame>(u => u.ChatId == group, Timeout);
        }

        // A small steady load from everyone; node 1 is stopped while it runs.
        using var stop = new CancellationTokenSource();
        var closes = new ConcurrentQueue<(WebSocketCloseStatus? Status, string? Reason)>();
        var load = everyone.Select(user => Task.Run(() => SendUntilStoppedAsync(system, clients, user, group, closes, stop.Token))).ToList();
        await Eventually.TrueAsync(() => Task.FromResult(_accepted.Count >= 30), Timeout, "30 messages accepted before the stop");

        var exitCode = await node1.TerminateAsync(Timeout);
        exitCode.Should().Be(0, node1.Output);
        LatestSessionNodes(system, onNode1).Should().NotContain(1, "the drained node withdrew its sessions before exiting; its leases had {0} s to run", LeaseSeconds);

        await Eventually.TrueAsync(() => Task.FromResult(closes.Count == onNode1.Length), Timeout, "every node-1 client closed and reconnected");
        closes.Should().AllSatisfy(c =>
        {
            c.Status.Should().Be(WebSocketCloseStatus.EndpointUnavailable);
            c.Reason.Should().Be("reconnect " + node0);
        });
        var acceptedAtStop = _accepted.Count;
        await Eventually.TrueAsync(() => Task.FromResult(_accepted.Count >= acceptedAtStop + 30), Timeout, "30 more messages accepted after the reconnections");
        await stop.CancelAsync();
        await Task.WhenAll(load);

        // Every accepted message reaches every member once after de-duplication, in seq order.
        var last = await clients[onNode0[0]].SendMessageAsync(group, "last");
        _accepted.Enqueue(last.MessageId);
        foreach (var user in everyone)
        {
            await Eventually.TrueAsync(() => Task.FromResult(Holds(user, last.MessageId)), Timeout, $"{user} holding the last message");
            var byId = _received[user].Where(m => m.ChatId == group).GroupBy(m => m.MessageId).ToDictionary(g => g.Key, g => g.First().Seq, StringComparer.Ordinal);
            byId.Keys.Should().Contain(_accepted, $"{user} got every accepted message");
            byId.Values.Should().OnlyHaveUniqueItems($"{user} got one seq per message");
        }
    }

    [Fact]
    public async Task A_Router_stopped_with_SIGTERM_under_load_commits_what_it_decided_so_its_successor_decides_nothing_twice()
    {
        await using var bed = await RouterTestBed.CreateAsync();
        await bed.RegisterAsync("ana", "ana-d0");
        var events = bed.ReadEvents();
        var chats = Enumerable.Range(0, 8).Select(_ => RouterTestBed.NextId("g-")).ToArray();
        await bed.SendManyAsync(chats.Select(c => RouterTestBed.Group(c, "ana")));

        // A long flush interval: without the drain a stop would leave seconds of decisions uncommitted.
        var first = bed.StartRouterProcess(new Dictionary<string, string?> { ["Router__StateFlushMs"] = "5000" });
        await Eventually.TrueAsync(() => Task.FromResult(first.Output.Contains("Assigned", StringComparison.Ordinal)), Timeout, "the first Router owning partitions");

        using var stop = new CancellationTokenSource();
        var sent = 0;
        var load = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await bed.SendManyAsync(chats.Select(c => RouterTestBed.Send(c, "ana")));
                Interlocked.Add(ref sent, chats.Length);
                await Task.Delay(20, CancellationToken.None);
            }
        });
        await Eventually.ReturnsAsync(events.Poll, l => l.Count >= chats.Length + 200, Timeout, "200 messages decided by the first Router");
        var exitCode = await first.TerminateAsync(Timeout);
        exitCode.Should().Be(0, first.Output);
        first.Output.Should().Contain("Stopping: the last batch");

        var second = bed.StartRouterProcess();
        await Eventually.TrueAsync(() => Task.FromResult(second.Output.Contains("Assigned", StringComparison.Ordinal)), Timeout, "the second Router owning partitions");
        var decidedBefore = (await events.Poll()).Count;
        await Eventually.ReturnsAsync(events.Poll, l => l.Count >= decidedBefore + 100, Timeout, "100 more messages decided by the second Router");
        await stop.CancelAsync();
        await load;

        var log = await Eventually.ReturnsAsync(events.Poll, l => l.Count >= chats.Length + Volatile.Read(ref sent), Timeout, "every command decided");
        log.Select(e => (e.Key, e.Value.Seq)).Should().OnlyHaveUniqueItems("no command was decided twice, so no event was appended twice");
        log.Should().HaveCount(chats.Length + sent);
    }

    private bool Holds(string user, string messageId) => _received.TryGetValue(user, out var frames) && frames.Any(f => f.MessageId == messageId);

    private ChatClientOptions Recording(string user)
    {
        var frames = _received.GetOrAdd(user, _ => new ConcurrentQueue<MessageFrame>());
        return new ChatClientOptions
        {
            OnFrame = frame =>
            {
                if (frame is MessageFrame message)
                {
                    frames.Enqueue(message);
                }
            },
        };
    }

    /// <summary>Sends every 50 ms; on a 1001 close, reconnects where the reason says and syncs, then goes on.</summary>
    private async Task SendUntilStoppedAsync(ChatSystem system, ConcurrentDictionary<string, ChatClient> clients, string user, string group, ConcurrentQueue<(WebSocketCloseStatus?, string?)> closes, CancellationToken stop)
    {
        var n = 0;
        while (!stop.IsCancellationRequested)
        {
            var client = clients[user];
            try
            {
                var accepted = await client.SendMessageAsync(group, $"{user} {(n++).ToString(CultureInfo.InvariantCulture)}", cancellationToken: CancellationToken.None);
                _accepted.Enqueue(accepted.MessageId);
                await Task.Delay(50, CancellationToken.None);
            }
            catch (Exception ex) when (ex is ChatConnectionClosedException or WebSocketException or OperationCanceledException or TimeoutException)
            {
                // A send in flight at the close may or may not be in the log: it is not counted as accepted.
                await client.Closed.WaitAsync(Timeout, CancellationToken.None);
                var reason = client.CloseStatusDescription;
                closes.Enqueue((client.CloseStatus, reason));
                reason.Should().StartWith("reconnect ");
                var target = new Uri(reason!["reconnect ".Length..]);
                clients[user] = await system.ConnectAsync(new UriBuilder(target) { Scheme = "http", Path = "/" }.Uri, user, user + "-phone", Recording(user));
                await clients[user].RequestAsync<SyncDoneFrame>(new SyncFrame(), CancellationToken.None);
            }
        }
    }

    /// <summary>The node of each device's latest <c>device.sessions</c> record (-1 offline).</summary>
    private static List<int> LatestSessionNodes(ChatSystem system, string[] users)
    {
        var services = system.Edges[0].Services;
        var topic = services.GetRequiredService<TopicNames>().DeviceSessions;
        var clients = services.GetRequiredService<KafkaClientFactory>();
        var reader = new TopicReader<DeviceRecord>(clients, topic, b => Codecs.Devices.Decode(b).Value);
        try
        {
            var latest = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var (key, value) in reader.Poll().GetAwaiter().GetResult())
            {
                if (value is DeviceSessionChanged session)
                {
                    latest[key] = session.Node ?? -1;
                }
            }

            return [.. users.Select(u => latest.TryGetValue(DeviceRef.AddressOf(u, u + "-phone"), out var node) ? node : -1)];
        }
        finally
        {
            reader.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }
}
