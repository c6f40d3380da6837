using System.Net;
using System.Net.Http.Headers;
using Confluent.Kafka;
using Messaging.Client;
using Messaging.Contracts;
using Messaging.Contracts.Devices;
using Messaging.Contracts.Protocol;
using Messaging.Contracts.Serialization;
using Messaging.Contracts.Topics;
using Messaging.Hosting.Kafka;
using Messaging.IntegrationTests.Harness;
using Microsoft.Extensions.DependencyInjection;

namespace Messaging.IntegrationTests.EndToEnd;

/// <summary>Clients watch presence: two Edge nodes, Router, Projections, real sockets, real device.sessions.</summary>
public sealed class PresenceTests : IAsyncLifetime
{
    private const int MaxWatches = 3;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private ChatSystem _system = null!;

    public async Task InitializeAsync() => _system = await ChatSystem.StartAsync(edgeNodes: 2, configure: s =>
    {
        s["Edge:MaxPresenceWatches"] = MaxWatches.ToString(System.Globalization.CultureInfo.InvariantCulture);
        s["Edge:PresenceSweepSeconds"] = "1";
    });

    public async Task DisposeAsync() => await _system.DisposeAsync();

    [Fact]
    public async Task A_watcher_hears_a_watched_user_come_online_on_another_node_and_go_offline_with_last_seen()
    {
        var (ana, bo) = (Unique("ana"), Unique("bo"));
        var anaPhone = await _system.ConnectAsync(0, ana, ana + "-phone");
        await ShareChatAsync(anaPhone, bo);

        var snapshot = await anaPhone.WatchPresenceAsync([bo]);
        snapshot.Should().ContainSingle().Which.Should().BeEquivalentTo(new { UserId = bo, Online = false, LastSeen = (DateTimeOffset?)null, DevicesOnline = 0 });

        var boPhone = await _system.ConnectAsync(1, bo, bo + "-phone");
        var online = await anaPhone.WaitForAsync<PresenceChangedFrame>(p => p.UserId == bo, Timeout);
        online.Online.Should().BeTrue();
        online.LastSeen.Should().BeNull();

        // A second device: still one "online" to watchers, two devices in a snapshot.
        var boLaptop = await _system.ConnectAsync(1, bo, bo + "-laptop");
        await Eventually.TrueAsync(async () => (await anaPhone.GetPresenceAsync([bo]))[0].DevicesOnline == 2, Timeout, "both of bo's devices online");

        var beforeLeaving = DateTimeOffset.UtcNow;
        await boPhone.CloseAsync();
        await boLaptop.CloseAsync();
        var offline = await anaPhone.WaitForAsync<PresenceChangedFrame>(p => p.UserId == bo, Timeout);
        offline.Online.Should().BeFalse("the next change after online is the last device leaving, not the first");
        offline.LastSeen.Should().NotBeNull();
        offline.LastSeen!.Value.Should().BeCloseTo(beforeLeaving, TimeSpan.FromSeconds(30));

        var after = (await anaPhone.GetPresenceAsync([bo])).Should().ContainSingle().Subject;
        after.Should().BeEquivalentTo(new { Online = false, DevicesOnline = 0, offline.LastSeen });
    }

    [Fact]
    public async Task Presence_over_http_matches_presence_get_and_both_refuse_users_who_share_no_chat()
    {
        var (ana, bo, zed) = (Unique("ana"), Unique("bo"), Unique("zed"));
        var anaPhone = await _system.ConnectAsync(0, ana, ana + "-phone");
        await ShareChatAsync(anaPhone, bo);
        await _system.ConnectAsync(1, bo, bo + "-phone");
        var edge = _system.Edges[1];
        using var http = new HttpClient();
        var token = await ChatClient.GetDevTokenAsync(edge.BaseAddress, ana, ana + "-web", http);

        var users = await Eventually.ReturnsAsync(
            async () =>
            {
                using var response = await http.SendAsync(Get(edge.BaseAddress, $"/v1/presence?userIds={bo},{ana}", token));
                response.StatusCode.Should().Be(HttpStatusCode.OK);
                var frame = Codecs.ServerFrames.Decode(await response.Content.ReadAsByteArrayAsync()).Value.Should().BeOfType<PresenceFrame>().Subject;
                return frame.Users;
            },
            u => u[0].Online && u[1].Online,
            Timeout,
            "bo and ana online over HTTP");
        users.Select(u => (u.UserId, u.Online, u.DevicesOnline)).Should().Equal((bo, true, 1), (ana, true, 1));
        // Node 0 (ana's socket) learns bo's session on node 1 from device.sessions, a moment after node 1 does.
        var overSocket = await Eventually.ReturnsAsync(() => anaPhone.GetPresenceAsync([bo, ana]), u => u[0].Online && u[1].Online, Timeout, "bo and ana online on node 0");
        overSocket.Should().BeEquivalentTo(users, o => o.WithStrictOrdering());

        using (var forbidden = await http.SendAsync(Get(edge.BaseAddress, $"/v1/presence?userIds={bo},{zed}", token)))
        {
            forbidden.StatusCode.Should().Be(HttpStatusCode.Forbidden);
            (await forbidden.Content.ReadAsStringAsync()).Should().Contain(ErrorCodes.NotMember).And.Contain(zed);
        }

        using (var empty = await http.SendAsync(Get(edge.BaseAddress, "/v1/presence?userIds=", token)))
        {
            empty.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        }

        var refused = () => anaPhone.WatchPresenceAsync([zed]);
        (await refused.Should().ThrowAsync<ChatServerException>()).Which.Error.Code.Should().Be(ErrorCodes.NotMember);
    }

    [Fact]
    public async Task Watching_more_users_than_the_limit_is_refused_with_too_large_and_unwatching_makes_room()
    {
        var ana = Unique("ana");
        var others = Enumerable.Range(1, MaxWatches + 1).Select(i => Unique("u" + i.ToString(System.Globalization.CultureInfo.InvariantCulture))).ToArray();
        var anaPhone = await _system.ConnectAsync(0, ana, ana + "-phone");
        await ShareChatAsync(anaPhone, others);

        await anaPhone.WatchPresenceAsync(others[..2]);
        (await TooLargeAsync(() => anaPhone.WatchPresenceAsync(others[2..]))).Should().BeTrue("2 watched + 2 more exceeds 3");
        (await anaPhone.WatchPresenceAsync([others[1], others[2]])).Should().HaveCount(2, "re-watching a watched user takes no extra room");
        (await TooLargeAsync(() => anaPhone.WatchPresenceAsync([others[3]]))).Should().BeTrue();
        (await TooLargeAsync(() => anaPhone.GetPresenceAsync(others))).Should().BeTrue("one request may not name more than the limit either");

        await anaPhone.UnwatchPresenceAsync([others[0]]);
        (await anaPhone.WatchPresenceAsync([others[3]])).Should().ContainSingle().Which.UserId.Should().Be(others[3]);
    }

    [Fact]
    public async Task A_watched_device_whose_lease_runs_out_without_an_offline_record_is_reported_offline_by_the_sweep()
    {
        var (ana, bo) = (Unique("ana"), Unique("bo"));
        var anaPhone = await _system.ConnectAsync(0, ana, ana + "-phone");
        await ShareChatAsync(anaPhone, bo);
        await anaPhone.WatchPresenceAsync([bo]);

        // What a node that dies right after announcing leaves behind: an online record whose
        // lease nobody renews and no offline record. The lease outlasts node 0's read of the record
        // on a loaded machine: a record read after its lease is offline, and no "online" would come.
        var edge = _system.Edges[1].Services;
        using var producer = edge.GetRequiredService<KafkaClientFactory>().CreateProducer("presence-tests");
        var announced = DateTimeOffset.UtcNow;
        var session = new DeviceSessionChanged
        {
            DeviceId = bo + "-phone",
            UserId = bo,
            Node = 1,
            SessionId = Guid.NewGuid().ToString(),
            ChangedAt = announced,
            LeaseUntil = announced.AddSeconds(10),
        };
        await producer.ProduceAsync(edge.GetRequiredService<TopicNames>().DeviceSessions, new Message<string, byte[]> { Key = DeviceRef.AddressOf(session.UserId, session.DeviceId), Value = Codecs.Devices.Encode(session) });

        (await anaPhone.WaitForAsync<PresenceChangedFrame>(p => p.UserId == bo, Timeout)).Online.Should().BeTrue();
        var offline = await anaPhone.WaitForAsync<PresenceChangedFrame>(p => p.UserId == bo, Timeout);
        offline.Online.Should().BeFalse();
        offline.LastSeen.Should().Be(announced, "the last renewal is the last moment the device was known connected");
    }

    private async Task ShareChatAsync(ChatClient creator, params string[] members)
    {
        var chatId = await creator.CreateChatAsync(members, "presence");
        // The privacy rule reads chat_members, which the chat projection fills a moment later.
        await Eventually.TrueAsync(
            async () => await _system.CountAsync("select count(*) from chat_members where chat_id = $1 and left_seq is null", chatId) == members.Length + 1,
            Timeout,
            "the chat's members in the read model");
    }

    private static async Task<bool> TooLargeAsync(Func<Task> request)
    {
        try
        {
            await request();
            return false;
        }
        catch (ChatServerException ex) when (ex.Error.Code == ErrorCodes.TooLarge)
        {
            return true;
        }
    }

    private static HttpRequestMessage Get(Uri baseAddress, string path, string token)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, new Uri(baseAddress, path));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return request;
    }

    private static string Unique(string name) => name + "-" + Guid.NewGuid().ToString("N")[..6];
}
