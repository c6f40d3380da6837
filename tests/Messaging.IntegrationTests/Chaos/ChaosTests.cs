using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Messaging.Client;
using Messaging.Contracts.Events;
using Messaging.Contracts.Protocol;
using Messaging.Contracts.Serialization;
using Messaging.Contracts.Topics;
using Messaging.Hosting.Kafka;
using Messaging.IntegrationTests.EndToEnd;
using Messaging.IntegrationTests.Harness;
using Messaging.IntegrationTests.Router;
using Microsoft.Extensions.DependencyInjection;

namespace Messaging.IntegrationTests.Chaos;

/// <summary>
/// The chaos suite (docs/reliability.md): real service processes (two Routers, Projections, Edge
/// node 1; Edge node 0 in-process as the observers' node) under a steady open-loop load of sends
/// in groups of 10 spread over both Edge nodes, and in turn: kill -9 of an Edge node, a Router and
/// Projections, a Router paused (SIGSTOP) past its session timeout and resumed (a zombie), and
/// <c>chat.state</c> lost (both Routers restarted on a fresh one). Then a checker: every accepted
/// message reaches every member device (live or by sync) exactly once after de-duplication, each
/// chat's log has one message per seq, the <c>messages</c> read model equals the log, and every
/// read model equals a rebuild of it from the log. Also in both versions: a member's send queue
/// filled (it stops reading, is closed 4003, syncs). The short version runs in <c>make test</c>;
/// <c>CHAOS_FULL=1</c> (<c>make chaos</c>) runs the few-hundred-sends/s version, adds a rolling
/// restart (SIGTERM) of every service process, with <c>CHAOS_OWN_STACK=1</c> (a stack instance of
/// the suite's own) a Kafka broker restart and a PostgreSQL restart, and writes the report to
/// <c>CHAOS_REPORT</c>.
/// </summary>
public sealed partial class ChaosTests
{
    private static readonly bool Full = Environment.GetEnvironmentVariable("CHAOS_FULL") == "1";
    private static readonly int SendsPerSecond = int.Parse(Environment.GetEnvironmentVariable("CHAOS_RATE") ?? (Full ? "200" : "20"), CultureInfo.InvariantCulture);
    private static readonly TimeSpan FaultWindow = TimeSpan.FromSeconds(Full ? 20 : 6);
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);
    private const int Groups = 2;
    private const int GroupSize = 10;

    private readonly ConcurrentDictionary<string, ConcurrentQueue<(MessageFrame Frame, long At)>> _received = new(StringComparer.Ordinal);
    private readonly ConcurrentBag<Sent> _sent = [];
    private readonly ConcurrentDictionary<string, ChatClient> _clients = new(StringComparer.Ordinal);
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<ServiceProcess> _processes = [];
    private readonly List<string> _notes = [];
    private ChatSystem _system = null!;
    private EdgeProcess? _node1;
    private ServiceProcess[] _routers = new ServiceProcess[2];
    private ServiceProcess _projections = null!;
    private Dictionary<string, string?> _routerSettings = null!;
    private string[] _users = [];
    private string[] _groups = [];
    private string[] _members = [];

    private sealed record Sent(string User, string Chat, long StartedAt, long AcceptedAt, string MessageId);

    /// <summary>A fault, how to heal it, and how long it lasts under load (null: the usual window).</summary>
    private sealed record Fault(string Name, Func<Task> Inject, Func<Task> Heal, TimeSpan? Lasts = null);

    /// <summary>Past the Legacy09 profile's consumer session timeout (10 s), so the paused Router's partitions move.</summary>
    private static readonly TimeSpan PastSessionTimeout = TimeSpan.FromSeconds(14);

    [Fact]
    public async Task Under_a_steady_load_every_fault_loses_no_accepted_message_and_the_read_models_equal_the_log()
    {
        _system = await ChatSystem.StartAsync(edgeNodes: 1, inProcessRouter: false, configure: s => s["Edge:SessionLeaseSeconds"] = "6");
        try
        {
            await StartProcessesAsync();
            await ConnectAndCreateGroupsAsync();

            var faults = new List<Fault>
            {
                new("kill -9 Edge node 1", () => _node1!.KillAsync(), async () => _node1 = await EdgeProcess.StartAsync(_system.Settings, node: 1)),
                new("kill -9 Router", () => _routers[0].KillAsync(), () => RestartRouterAsync(0)),
                new("kill -9 Projections", () => _projections.KillAsync(), () => Task.FromResult(_projections = StartService("Projections", _system.Settings))),
                new("SIGSTOP Router past its session timeout, SIGCONT (zombie)", () => Task.Run(() => _routers[1].Signal("STOP")), () => Task.Run(() => _routers[1].Signal("CONT")), PastSessionTimeout),
                new("chat.state lost (both Routers on a fresh one)", LoseChatStateAsync, () => Task.CompletedTask),
                // The short version heals at once (the member reads up to its close frame): it keeps make test's chaos test short.
                new("send queue full (a member stops reading: 4003, then sync)", FillSendQueueAsync, CatchUpSlowMemberAsync, Full ? null : TimeSpan.Zero),
            };
            faults.AddRange(FullOnlyFaults());

            using var stop = new CancellationTokenSource();
            var load = Task.Run(() => LoadAsync(stop.Token));
            var report = new List<string>();
            await Task.Delay(FaultWindow, CancellationToken.None); // a steady state before the first fault: the baseline window
            report.Add(Row("none (baseline)", _clock.ElapsedMilliseconds - (long)FaultWindow.TotalMilliseconds, _clock.ElapsedMilliseconds));
            foreach (var fault in faults)
            {
                var start = _clock.ElapsedMilliseconds;
                await fault.Inject();
                await Task.Delay(fault.Lasts ?? FaultWindow, CancellationToken.None); // the fault lasts this long under load
                await fault.Heal();
                await ProbeDeliveryAsync();
                report.Add(Row(fault.Name, start, _clock.ElapsedMilliseconds));
            }

            await stop.CancelAsync();
            await load;
            await CheckLogAndReadModelsAsync();
            var (lost, duplicates) = await CheckAsync();
            if (lost.Count == 0)
            {
                await CheckReadModelsEqualARebuildAsync();
            }

            WriteReport(report, lost, duplicates, _notes);
            lost.Values.Sum().Should().Be(0, "no accepted message may be lost");
        }
        catch
        {
            KeepProcessOutputs();
            throw;
        }
        finally
        {
            foreach (var process in _processes)
            {
                if (!process.HasExited)
                {
                    process.Signal("CONT");
                }

                await process.DisposeAsync();
            }

            _slowSocket?.Dispose();

            if (_node1 is not null)
            {
                await _node1.DisposeAsync();
            }

            await _system.DisposeAsync();
        }
    }

    private async Task StartProcessesAsync()
    {
        await _system.StopProjectionsAsync();
        _projections = StartService("Projections", _system.Settings);
        _routerSettings = new Dictionary<string, string?>(_system.Settings);
        _routers = [StartService("Router", _routerSettings), StartService("Router", _routerSettings)];
        await Eventually.TrueAsync(() => Task.FromResult(_routers.All(r => r.Output.Contains("Assigned", StringComparison.Ordinal))), Timeout, "both Routers owning partitions");
        _node1 = await EdgeProcess.StartAsync(_system.Settings, node: 1);
    }

    private ServiceProcess StartService(string project, Dictionary<string, string?> settings)
    {
        var environment = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var (key, value) in settings)
        {
            environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        environment["Urls"] = "http://127.0.0.1:0";
        environment["ASPNETCORE_URLS"] = null;
        environment["Logging__LogLevel__Default"] = "Information";
        var process = ServiceProcess.Start(project, environment);
        _processes.Add(process);
        return process;
    }

    private async Task RestartRouterAsync(int index)
    {
        _routers[index] = StartService("Router", _routerSettings);
        await Eventually.TrueAsync(() => Task.FromResult(_routers[index].Output.Contains("Router starting", StringComparison.Ordinal)), Timeout, "the restarted Router");
    }

    private async Task LoseChatStateAsync()
    {
        foreach (var router in _routers)
        {
            await router.TerminateAsync(Timeout);
        }

        _routerSettings["Router:ChatStateTopic"] = "chat.state.lost-" + Guid.NewGuid().ToString("N")[..8];
        _routers = [StartService("Router", _routerSettings), StartService("Router", _routerSettings)];
        await Eventually.TrueAsync(() => Task.FromResult(_routers.Any(r => r.Output.Contains("rebuilt", StringComparison.Ordinal))), Timeout, "a Router rebuilding chat.state from chat.events");
        await ProbeDeliveryAsync();
        foreach (var router in _routers)
        {
            // The Routers log each partition's rebuild (chats, events, time): the report quotes them.
            _notes.AddRange(router.Output.Split('\n').Where(l => l.Contains("rebuilt", StringComparison.Ordinal)).Select(l => System.Text.RegularExpressions.Regex.Match(l, "Partition [^\"]*").Value));
        }
    }

    private async Task ConnectAndCreateGroupsAsync()
    {
        var id = Guid.NewGuid().ToString("N")[..6];
        _users = [.. Enumerable.Range(0, Groups * GroupSize).Select(i => $"c{i}-{id}")];
        for (var i = 0; i < _users.Length; i++)
        {
            _clients[_users[i]] = await ConnectAsync(_users[i], i % 2 == 0 ? null : _node1!.BaseAddress);
        }

        _groups = new string[Groups];
        for (var g = 0; g < Groups; g++)
        {
            var members = _users.Skip(g * GroupSize).Take(GroupSize).ToArray();
            // Group 0 also holds the member whose send queue the suite fills (offline until then).
            _groups[g] = await _clients[members[0]].CreateChatAsync([.. members.Skip(1), .. g == 0 ? [SlowUser] : Array.Empty<string>()], "chaos " + g);
            foreach (var user in members)
            {
                await _clients[user].WaitForAsync<ChatUpdatedFrame>(u => u.ChatId == _groups[g], Timeout);
            }
        }

        _members = [.. _users, SlowUser];
        await PrepareFloodAsync();
    }

    private async Task<ChatClient> ConnectAsync(string user, Uri? node1)
    {
        var frames = _received.GetOrAdd(user, _ => new ConcurrentQueue<(MessageFrame, long)>());
        var options = new ChatClientOptions { OnFrame = f => { if (f is MessageFrame m) { frames.Enqueue((m, _clock.ElapsedMilliseconds)); } } };
        return node1 is null ? await _system.ConnectAsync(0, user, user + "-phone", options) : await _system.ConnectAsync(node1, user, user + "-phone", options);
    }

    /// <summary>Open loop: a send every 1/rate s whatever the answers; a closed client reconnects to node 0 and syncs.</summary>
    private async Task LoadAsync(CancellationToken stop)
    {
        var random = new Random(7);
        var interval = TimeSpan.FromSeconds(1.0 / SendsPerSecond);
        var next = _clock.Elapsed;
        var inflight = new List<Task>();
        var reconnecting = new ConcurrentDictionary<string, Task>(StringComparer.Ordinal);
        while (!stop.IsCancellationRequested)
        {
            var g = random.Next(Groups);
            var user = _users[(g * GroupSize) + random.Next(GroupSize)];
            var client = _clients[user];
            if (client.Closed.IsCompleted)
            {
                _ = reconnecting.GetOrAdd(user, u => Task.Run(async () =>
                {
                    try
                    {
                        var fresh = await ConnectAsync(u, null);
                        await fresh.RequestAsync<SyncDoneFrame>(new SyncFrame(), CancellationToken.None);
                        _clients[u] = fresh;
                    }
                    catch (Exception ex) when (ex is ChatConnectionClosedException or System.Net.WebSockets.WebSocketException or HttpRequestException or TimeoutException or ChatServerException)
                    {
                        // Tried again at this user's next turn.
                    }
                    finally
                    {
                        reconnecting.TryRemove(u, out _);
                    }
                }));
            }
            else
            {
                inflight.Add(SendAsync(client, user, _groups[g]));
            }

            inflight.RemoveAll(t => t.IsCompleted);
            next += interval;
            var wait = next - _clock.Elapsed;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, CancellationToken.None);
            }
        }

        await Task.WhenAll(inflight);
        await Task.WhenAll(reconnecting.Values);
    }

    private async Task SendAsync(ChatClient client, string user, string chat)
    {
        var started = _clock.ElapsedMilliseconds;
        try
        {
            var accepted = await client.SendMessageAsync(chat, "x", cancellationToken: CancellationToken.None);
            _sent.Add(new Sent(user, chat, started, _clock.ElapsedMilliseconds, accepted.MessageId));
        }
        catch (Exception ex) when (ex is ChatConnectionClosedException or System.Net.WebSockets.WebSocketException or TimeoutException or ChatServerException or OperationCanceledException)
        {
            // Not accepted: the client would retry with the same clientMsgId; the checker only owes accepted messages.
        }
    }

    /// <summary>After a heal: a message from a node-0 member reaches another node-0 member of its group (the system delivers again).</summary>
    private async Task ProbeDeliveryAsync()
    {
        await Eventually.TrueAsync(
            async () =>
            {
                try
                {
                    var accepted = await _clients[_users[0]].SendMessageAsync(_groups[0], "probe", cancellationToken: CancellationToken.None);
                    _sent.Add(new Sent(_users[0], _groups[0], _clock.ElapsedMilliseconds, _clock.ElapsedMilliseconds, accepted.MessageId));
                    await _clients[Observer].WaitForAsync<MessageFrame>(m => m.MessageId == accepted.MessageId, TimeSpan.FromSeconds(5));
                    return true;
                }
                catch (Exception ex) when (ex is TimeoutException or ChatConnectionClosedException or ChatServerException)
                {
                    return false;
                }
            },
            Timeout,
            "delivery after the fault healed");
    }

    /// <summary>
    /// One report row over the sends started in [<paramref name="from"/>, <paramref name="to"/>).
    /// Time to recover: the longest gap between two deliveries to an observer on node 0 (group 0)
    /// in the window, i.e. how long delivery stopped. p99s: send → accepted, and send → pushed to
    /// the observer (messages it got live).
    /// </summary>
    private string Row(string fault, long from, long to)
    {
        var window = _sent.Where(s => s.StartedAt >= from && s.StartedAt < to).ToList();
        var seenAt = _received[Observer].GroupBy(r => r.Frame.MessageId).ToDictionary(g => g.Key, g => g.Min(r => r.At), StringComparer.Ordinal);
        var delivered = window.Where(s => s.Chat == _groups[0] && seenAt.ContainsKey(s.MessageId)).Select(s => seenAt[s.MessageId] - s.StartedAt).Order().ToList();
        var arrivals = _received[Observer].Where(r => r.At >= from && r.At < to).Select(r => r.At).Order().Prepend(from).Append(to).ToList();
        var gap = arrivals.Zip(arrivals.Skip(1), (a, b) => b - a).Max();
        var accepted = window.Select(s => s.AcceptedAt - s.StartedAt).Order().ToList();
        return string.Create(CultureInfo.InvariantCulture, $"| {fault} | {window.Count} | {{lost:{from}:{to}}} | {{dup:{from}:{to}}} | {gap / 1000.0:0.0} s | {P99(accepted)} ms | {P99(delivered)} ms |");
    }

    private static string P99(List<long> sorted) =>
        sorted.Count == 0 ? "-" : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(sorted.Count * 0.99) - 1)].ToString(CultureInfo.InvariantCulture);

    private string Observer => _users[2];

    /// <summary>Every member device ends up holding every accepted message of its group exactly once after de-duplication.</summary>
    private async Task<(Dictionary<string, int> Lost, Dictionary<string, int> Duplicates)> CheckAsync()
    {
        // Everyone syncs once more (a device whose socket closed in the last fault reconnects first).
        // That sync repeats what a device got but did not ack: duplicates are counted before it.
        var checkStarted = _clock.ElapsedMilliseconds;
        foreach (var user in _members)
        {
            if (_clients[user].Closed.IsCompleted)
            {
                _clients[user] = await ConnectAsync(user, null);
            }

            await _clients[user].RequestAsync<SyncDoneFrame>(new SyncFrame(), CancellationToken.None);
        }

        var lost = new Dictionary<string, int>(StringComparer.Ordinal);
        var duplicates = new Dictionary<string, int>(StringComparer.Ordinal);
        var accepted = _sent.ToList();
        foreach (var user in _members)
        {
            var g = user == SlowUser ? 0 : Array.IndexOf(_users, user) / GroupSize;
            var frames = _received[user].Where(r => r.Frame.ChatId == _groups[g]).ToList();
            var distinct = frames.GroupBy(r => r.Frame.MessageId).ToDictionary(x => x.Key, x => x.ToList(), StringComparer.Ordinal);
            distinct.Values.Select(x => x.Select(r => r.Frame.Seq).Distinct().Count()).Should().AllSatisfy(n => n.Should().Be(1, $"{user}: one seq per message"));
            distinct.Values.Select(x => x[0].Frame.Seq).Should().OnlyHaveUniqueItems($"{user}: one message per seq");
            foreach (var s in accepted.Where(s => s.Chat == _groups[g]))
            {
                var key = s.StartedAt.ToString(CultureInfo.InvariantCulture);
                if (!distinct.TryGetValue(s.MessageId, out var copies))
                {
                    lost[key] = lost.GetValueOrDefault(key) + 1;
                }
                else if (copies.Count(c => c.At < checkStarted) is var before and > 1)
                {
                    duplicates[key] = duplicates.GetValueOrDefault(key) + before - 1;
                }
            }
        }

        return (lost, duplicates);
    }

    /// <summary>Each chat's log has one message per seq; the <c>messages</c> read model equals the log's messages.</summary>
    private async Task CheckLogAndReadModelsAsync()
    {
        var services = _system.Edges[0].Services;
        var topic = services.GetRequiredService<TopicNames>().ChatEvents;
        await using var reader = new TopicReader<ChatEvent>(services.GetRequiredService<KafkaClientFactory>(), topic, b => Codecs.Events.Decode(b).Value);
        // Both sides are read again each round: after a broker or database restart under load the
        // Router may still be working off its backlog of commands (the log grows) and the
        // projections theirs (the model grows); one Poll reads at most half a second of the log.
        var fromLog = new HashSet<string>(StringComparer.Ordinal);
        var fromModel = new HashSet<string>(StringComparer.Ordinal);
        List<IGrouping<(string ChatId, long Seq), MessageSent>> bySeq = [];
        await Eventually.TrueAsync(
            async () =>
            {
                var log = await reader.Poll();
                bySeq = [.. log.Select(e => e.Value).OfType<MessageSent>().Where(m => _groups.Contains(m.ChatId)).GroupBy(m => (m.ChatId, m.Seq))];
                fromLog = bySeq.Select(g => $"{g.Key.ChatId}/{g.Key.Seq}/{g.First().MessageId}").ToHashSet(StringComparer.Ordinal);
                fromModel.Clear();
                await using var command = _system.Database.CreateCommand("select chat_id, seq, message_id from messages where message_id is not null and chat_id = any($1)");
                command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = _groups });
                await using var rows = await command.ExecuteReaderAsync();
                while (await rows.ReadAsync())
                {
                    fromModel.Add($"{rows.GetString(0)}/{rows.GetInt64(1).ToString(CultureInfo.InvariantCulture)}/{rows.GetString(2)}");
                }

                return fromModel.SetEquals(fromLog);
            },
            Timeout,
            "the messages read model equal to the log");
        bySeq.Should().AllSatisfy(g => g.Select(m => m.MessageId).Distinct().Should().ContainSingle($"{g.Key} is one message in the log"));
    }

    private static void WriteReport(List<string> rows, Dictionary<string, int> lost, Dictionary<string, int> duplicates, List<string> notes)
    {
        int Sum(Dictionary<string, int> counts, long from, long to) => counts.Where(kv => long.Parse(kv.Key, CultureInfo.InvariantCulture) is var at && at >= from && at < to).Sum(kv => kv.Value);
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"{SendsPerSecond} sends/s open loop, {Groups} groups of {GroupSize} (one device each, alternating Edge nodes 0 and 1; group 0 also holds the member whose send queue is filled), fault window {FaultWindow.TotalSeconds:0} s");
        text.AppendLine();
        text.AppendLine("| fault | accepted | lost | duplicates before dedup | time to recover (longest delivery gap) | p99 send → accepted | p99 send → delivered (observer) |");
        text.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var row in rows)
        {
            var line = System.Text.RegularExpressions.Regex.Replace(row, @"\{(lost|dup):(\d+):(\d+)\}", m =>
                Sum(m.Groups[1].Value == "lost" ? lost : duplicates, long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture), long.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture)).ToString(CultureInfo.InvariantCulture));
            text.AppendLine(line);
        }

        if (notes.Count > 0)
        {
            text.AppendLine();
            text.AppendLine("Notes (chat.state rebuilds from the Router logs, the other faults' own measurements):");
            foreach (var note in notes)
            {
                text.AppendLine("- " + note);
            }
        }

        var path = Environment.GetEnvironmentVariable("CHAOS_REPORT");
        if (!string.IsNullOrEmpty(path))
        {
            File.WriteAllText(path, text.ToString());
        }

        Console.WriteLine(text.ToString());
    }
}
