using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Messaging.Client;
using Messaging.Contracts.Commands;
using Messaging.Contracts.Devices;
using Messaging.Contracts.Protocol;
using Messaging.Contracts.Topics;
using Messaging.Edge.Auth;
using Messaging.Hosting.Kafka;
using Messaging.IntegrationTests.Edge;
using Messaging.IntegrationTests.Harness;
using Microsoft.Extensions.DependencyInjection;

namespace Messaging.IntegrationTests.EndToEnd;

/// <summary>
/// Edge authorizes presence, media downloads, acks and the chat list by the chat projection's
/// tables, which lag the log (its runner fetches in batches). Each test stops the projections,
/// creates a chat and pushes it to its members, asks, and only then restarts the projections: the
/// answer must wait for the read model instead of refusing a member, as sync and history do. The
/// chat list's unread count likewise waits for the inbox runner, whose pages linger.
/// </summary>
public sealed class CausalReadsTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private const string Phone = "phone";

    [Fact]
    public async Task Presence_of_a_co_member_the_read_model_has_not_seen_yet_waits_for_it_instead_of_answering_not_member()
    {
        await using var system = await StartAsync();
        var (ana, bo, anaPhone, boPhone) = await ConnectAndStopProjectionsAsync(system);

        var chatId = await anaPhone.CreateChatAsync([bo], "new");
        await boPhone.WaitForAsync<ChatUpdatedFrame>(u => u.ChatId == chatId, Timeout);
        var overSocket = boPhone.GetPresenceAsync([ana]);
        var overHttp = GetAsync(system, bo, $"/v1/presence?userIds={ana}");
        await system.RestartProjectionsAsync();

        (await overSocket).Should().ContainSingle().Which.UserId.Should().Be(ana);
        using var response = await overHttp;
        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Media_download_of_an_attachment_the_read_model_has_not_seen_yet_waits_for_it_instead_of_answering_not_found()
    {
        await using var system = await StartAsync();
        var (ana, bo, anaPhone, boPhone) = await ConnectAndStopProjectionsAsync(system);

        var key = (await anaPhone.RequestUploadAsync("image/png", 3, "a.png")).Key;
        var chatId = await anaPhone.CreateChatAsync([bo], "new");
        var sent = await anaPhone.SendMessageAsync(chatId, "look", attachments: [new Attachment(key, "image/png", 3, "a.png")]);
        await boPhone.WaitForAsync<MessageFrame>(m => m.MessageId == sent.MessageId, Timeout);
        var download = GetAsync(system, bo, $"/v1/media/{key}");
        await system.RestartProjectionsAsync();

        using var response = await download;
        response.StatusCode.Should().Be(HttpStatusCode.Redirect, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Chat_list_right_after_a_chat_was_created_lists_it_although_the_read_model_had_not_seen_it()
    {
        await using var system = await StartAsync();
        var (ana, bo, anaPhone, boPhone) = await ConnectAndStopProjectionsAsync(system);

        var chatId = await anaPhone.CreateChatAsync([bo], "new");
        await boPhone.WaitForAsync<ChatUpdatedFrame>(u => u.ChatId == chatId, Timeout);
        var list = GetAsync(system, bo, "/v1/chats");
        await system.RestartProjectionsAsync();

        using var response = await list;
        var body = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.OK, body);
        body.Should().Contain(chatId);
    }

    [Fact]
    public async Task Ack_of_a_seq_the_read_model_has_not_seen_yet_waits_for_it_and_is_recorded_instead_of_refused()
    {
        await using var system = await StartAsync();
        var (ana, bo, anaPhone, boPhone) = await ConnectAndStopProjectionsAsync(system);

        var chatId = await anaPhone.CreateChatAsync([bo], "new");
        var sent = await anaPhone.SendMessageAsync(chatId, "first");
        var seq = (await boPhone.WaitForAsync<MessageFrame>(m => m.MessageId == sent.MessageId, Timeout)).Seq;

        // Bo's tablet connected after the push: it has no push to ack on the strength of, so Edge
        // asks the read model (as for a seq learnt from another device of the same user).
        var boTablet = await system.ConnectAsync(0, bo, "tablet");
        await boTablet.AckAsync(chatId, seq);
        await system.RestartProjectionsAsync();

        var acks = await Eventually.ReturnsAsync(
            () => AcksAsync(system, chatId),
            l => l.Any(a => a.DeviceId == "tablet"),
            Timeout,
            "the tablet's ack on device.acks");
        acks.Should().Contain(a => a.DeviceId == "tablet" && a.UserId == bo && a.Seq == seq);
    }

    [Fact]
    public async Task Chat_list_right_after_an_ack_counts_the_acked_message_as_received_although_the_inbox_page_lingers()
    {
        // The inbox runner's page would stay open for a minute after its first ack, and the chat
        // list waits 5 s at most: only Edge's flush request closes the page in time.
        await using var system = await ChatSystem.StartAsync(edgeNodes: 1, configure: s =>
        {
            s["Projections:InboxPageLingerMs"] = "60000";
            s["Edge:SyncCatchUpMs"] = "5000";
        });
        var (ana, bo) = (Unique("ana"), Unique("bo"));
        var anaPhone = await system.ConnectAsync(0, ana, Phone);
        var boPhone = await system.ConnectAsync(0, bo, Phone);
        var chatId = await anaPhone.CreateChatAsync([bo], "acks");
        var sent = await anaPhone.SendMessageAsync(chatId, "read me");
        var seq = (await boPhone.WaitForAsync<MessageFrame>(m => m.MessageId == sent.MessageId, Timeout)).Seq;
        (await UnreadAsync(system, bo, chatId)).Should().Be(1, "bo's phone has not acked it yet");

        await boPhone.AckAsync(chatId, seq);
        await Eventually.ReturnsAsync(() => AcksAsync(system, chatId), l => l.Any(a => a.UserId == bo && a.Seq == seq), Timeout, "bo's ack on device.acks");

        (await UnreadAsync(system, bo, chatId)).Should().Be(0, "the chat list waits for the inbox runner to write the ack that is in the log");
    }

    /// <summary>Ana's and Bo's phones, connected; then the projections stop, so no read model learns what follows.</summary>
    private static async Task<(string Ana, string Bo, ChatClient AnaPhone, ChatClient BoPhone)> ConnectAndStopProjectionsAsync(ChatSystem system)
    {
        var (ana, bo) = (Unique("ana"), Unique("bo"));
        var anaPhone = await system.ConnectAsync(0, ana, Phone);
        var boPhone = await system.ConnectAsync(0, bo, Phone);
        await system.StopProjectionsAsync();
        return (ana, bo, anaPhone, boPhone);
    }

    private static Task<ChatSystem> StartAsync() =>
        ChatSystem.StartAsync(edgeNodes: 1, configure: s => s["Edge:SyncCatchUpMs"] = "25000");

    private static async Task<HttpResponseMessage> GetAsync(ChatSystem system, string user, string path)
    {
        var token = system.Edges[0].Services.GetRequiredService<TokenService>().Issue(user, Phone);
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { Timeout = Timeout };
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(system.Edges[0].BaseAddress, path));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await client.SendAsync(request);
    }

    private static async Task<long> UnreadAsync(ChatSystem system, string user, string chatId)
    {
        using var response = await GetAsync(system, user, "/v1/chats");
        var body = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.OK, body);
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("chats").EnumerateArray().Single(c => c.GetProperty("chatId").GetString() == chatId).GetProperty("unread").GetInt64();
    }

    private static async Task<List<DeviceAck>> AcksAsync(ChatSystem system, string chatId)
    {
        var services = system.Edges[0].Services;
        return AckRecords.Of(await new TopicProbe(services.GetRequiredService<KafkaClientFactory>(), services.GetRequiredService<TopicNames>().DeviceAcks).ReadAllAsync(), chatId);
    }

    private static string Unique(string name) => name + "-" + Guid.NewGuid().ToString("N")[..6];
}
