using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text.Json;
using Messaging.Client;
using Messaging.Contracts.Devices;
using Messaging.Contracts.Protocol;
using Messaging.Contracts.Serialization;
using Messaging.Hosting.Kafka;
using Messaging.IntegrationTests.Edge;
using Messaging.IntegrationTests.Harness;
using Microsoft.Extensions.DependencyInjection;

namespace Messaging.IntegrationTests.EndToEnd;

/// <summary>
/// Device registration decided in order per user by the Router (issue 8): concurrent
/// registrations across nodes cannot lose a device or exceed the limit, and a removed device stays
/// removed until its user signs it in again.
/// </summary>
public sealed class DeviceRegistrationTests : IAsyncLifetime
{
    private const int MaxDevices = 6;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly List<ChatClient> _clients = [];
    private ChatSystem _system = null!;

    public async Task InitializeAsync() =>
        _system = await ChatSystem.StartAsync(edgeNodes: 2, configure: s => s["Router:MaxDevicesPerUser"] = MaxDevices.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public async Task DisposeAsync()
    {
        foreach (var client in _clients)
        {
            await client.DisposeAsync();
        }

        await _system.DisposeAsync();
    }

    private static string NewUser(string name) => name + "-" + Guid.NewGuid().ToString("N")[..6];

    private Task<string> TokenAsync(int node, string user, string device) => ChatClient.GetDevTokenAsync(_system.Edges[node].BaseAddress, user, device);

    private async Task<ChatClient> ConnectWithAsync(int node, string token)
    {
        var client = await ChatClient.ConnectAsync(_system.Edges[node].WebSocketUri(), token);
        lock (_clients)
        {
            _clients.Add(client);
        }

        return client;
    }

    /// <summary>
    /// The user's phone on node 0 removes their web device while its socket is open on node 1
    /// (which learns it from user.devices) and the socket closes with 4005; returns the web
    /// device's old token.
    /// </summary>
    private async Task<string> WebDeviceRemovedWhileOnlineAsync(string user)
    {
        var phone = await _system.ConnectAsync(0, user, user + "-phone");
        var oldWebToken = await TokenAsync(1, user, user + "-web");
        var web = await ConnectWithAsync(1, oldWebToken);
        (await web.PingAsync()).Should().NotBeNull();
        await phone.RemoveDeviceAsync(user + "-web");
        (await web.Closed.WaitAsync(Timeout)).Should().Be((WebSocketCloseStatus)CloseCodes.DeviceRemoved);
        return oldWebToken;
    }

    private TopicProbe UserDevices => new(_system.Router.Services.GetRequiredService<KafkaClientFactory>(), _system.Namespace.TopicPrefix + "user.devices");

    private async Task<List<UserDevicesChanged>> ListsAsync(string user) =>
        await UserDevices.ReadAsync(user, b => Codecs.Devices.Decode(b).Value as UserDevicesChanged);

    [Fact]
    public async Task Seven_devices_of_one_user_registering_at_once_on_two_nodes_land_exactly_six_and_all_six_get_every_later_message()
    {
        var ana = NewUser("ana");
        var devices = Enumerable.Range(0, MaxDevices + 1).Select(i => $"{ana}-d{i}").ToList();
        var tokens = await Task.WhenAll(devices.Select((d, i) => TokenAsync(i % 2, ana, d)));

        // All seven upgrade at the same moment, alternating nodes: every registration is decided while the others are in flight.
        var clients = await Task.WhenAll(tokens.Select((t, i) => ConnectWithAsync(i % 2, t)));

        var refused = clients.Where(c => c.Closed.IsCompleted || c.State != WebSocketState.Open).ToList();
        refused.Should().ContainSingle("exactly one of {0} concurrent registrations is over the limit of {1}", devices.Count, MaxDevices);
        (await refused[0].Closed.WaitAsync(Timeout)).Should().Be((WebSocketCloseStatus)CloseCodes.TooManyDevices);
        (await refused[0].WaitForAsync<ErrorFrame>(null, Timeout)).Code.Should().Be(ErrorCodes.TooManyDevices);
        var landed = clients.Except(refused).ToList();
        foreach (var client in landed)
        {
            (await client.PingAsync()).Should().NotBeNull();
        }

        var lists = await ListsAsync(ana);
        lists.Should().OnlyContain(l => l.DeviceIds.Count <= MaxDevices, "never more than the limit registered");
        lists[^1].DeviceIds.Should().HaveCount(MaxDevices).And.OnlyHaveUniqueItems();
        var refusedDevice = devices[Array.IndexOf(clients, refused[0])];
        lists[^1].DeviceIds.Should().BeEquivalentTo(devices.Where(d => d != refusedDevice));

        // Every later message reaches all six, live.
        var bo = NewUser("bo");
        var boPhone = await _system.ConnectAsync(0, bo, bo + "-phone");
        var sent = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            sent.Add((await boPhone.SendDirectMessageAsync(ana, "live " + i)).MessageId);
        }

        foreach (var client in landed)
        {
            foreach (var messageId in sent)
            {
                await client.WaitForAsync<MessageFrame>(m => m.MessageId == messageId, Timeout);
            }
        }

        // One of the six goes offline: it gets what it missed through sync.
        var offline = landed[0];
        var offlineIndex = Array.IndexOf(clients, offline);
        await offline.CloseAsync();
        var missed = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            missed.Add((await boPhone.SendDirectMessageAsync(ana, "while away " + i)).MessageId);
        }

        foreach (var client in landed.Skip(1))
        {
            foreach (var messageId in missed)
            {
                await client.WaitForAsync<MessageFrame>(m => m.MessageId == messageId, Timeout);
            }
        }

        var back = await ConnectWithAsync(1 - (offlineIndex % 2), await TokenAsync(0, ana, devices[offlineIndex]));
        var synced = await back.SyncAsync();
        synced.Messages.Select(m => m.MessageId).Should().Contain(missed);
    }

    /// <summary>
    /// A removed device's refusal is written the moment its socket opens, straight to the socket
    /// (<c>Edge:DirectSocketWrites</c>): it must follow Kestrel's 101 response. Before the
    /// transport's write buffer was bounded, one fresh-clone run read the error frame ahead of
    /// "HTTP/1.1 101" and the client's handshake failed.
    /// </summary>
    [Fact]
    public async Task A_refusal_written_the_moment_the_socket_opens_follows_the_handshake_on_every_reconnect()
    {
        var oldWebToken = await WebDeviceRemovedWhileOnlineAsync(NewUser("ana"));

        var reconnects = Enumerable.Range(0, 40).Select(async i =>
        {
            var again = await ConnectWithAsync(i % 2, oldWebToken);
            (await again.WaitForAsync<ErrorFrame>(null, Timeout)).Code.Should().Be(ErrorCodes.DeviceRemoved);
            (await again.Closed.WaitAsync(Timeout)).Should().Be((WebSocketCloseStatus)CloseCodes.DeviceRemoved);
        });
        await Task.WhenAll(reconnects);
    }

    [Fact]
    public async Task A_removed_device_is_closed_on_every_node_refused_with_its_old_token_and_registered_again_by_a_fresh_one()
    {
        var ana = NewUser("ana");
        var oldWebToken = await WebDeviceRemovedWhileOnlineAsync(ana);

        var lists = await ListsAsync(ana);
        lists[^1].DeviceIds.Should().Equal(ana + "-phone");
        var removedAt = lists[^1].Removed.Should().ContainSingle(r => r.DeviceId == ana + "-web").Subject.RemovedAt;

        // Reconnecting with the old token does not undo the removal, on either node.
        foreach (var node in new[] { 0, 1 })
        {
            var again = await ConnectWithAsync(node, oldWebToken);
            (await again.Closed.WaitAsync(Timeout)).Should().Be((WebSocketCloseStatus)CloseCodes.DeviceRemoved);
            (await again.WaitForAsync<ErrorFrame>(null, Timeout)).Code.Should().Be(ErrorCodes.DeviceRemoved);
        }

        // Nor does an HTTP request with it.
        using (var http = new HttpClient())
        using (var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_system.Edges[0].BaseAddress, "/v1/chats")))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", oldWebToken);
            using var response = await http.SendAsync(request);
            response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
            using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            problem.RootElement.GetProperty("code").GetString().Should().Be(ErrorCodes.DeviceRemoved);
        }

        (await ListsAsync(ana))[^1].DeviceIds.Should().Equal([ana + "-phone"], "no refusal registered it back");

        // Signing in again (a token issued after the removal; iat has whole seconds) registers it.
        await Eventually.TrueAsync(
            () => Task.FromResult(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()) > removedAt),
            Timeout,
            "a token second after the removal");
        var fresh = await ConnectWithAsync(0, await TokenAsync(0, ana, ana + "-web"));
        (await fresh.PingAsync()).Should().NotBeNull();
        (await ListsAsync(ana))[^1].DeviceIds.Should().BeEquivalentTo([ana + "-phone", ana + "-web"]);

        var bo = NewUser("bo");
        var boPhone = await _system.ConnectAsync(1, bo, bo + "-phone");
        var sent = await boPhone.SendDirectMessageAsync(ana, "welcome back");
        (await fresh.WaitForAsync<MessageFrame>(m => m.MessageId == sent.MessageId, Timeout)).Body.Should().Be("welcome back");
        fresh.State.Should().Be(WebSocketState.Open, "the removal record read late must not close a socket signed in after it");
    }
}
