using System.Net.Http.Headers;
using System.Text.Json;
using Messaging.Client;
using Messaging.Contracts.Protocol;
using Messaging.IntegrationTests.Harness;

namespace Messaging.IntegrationTests.EndToEnd;

/// <summary>
/// Issue 10, who gets what (docs/protocol.md), through the whole system: a user's first device
/// receives everything since the user joined (within retention), a later device starts at its
/// registration, and <c>unread</c> counts other members' messages after the device's cursor.
/// </summary>
public sealed class WhoGetsWhatTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private ChatSystem _system = null!;
    private readonly HttpClient _http = new();

    public async Task InitializeAsync() => _system = await ChatSystem.StartAsync(edgeNodes: 1);

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _system.DisposeAsync();
    }

    [Fact]
    public async Task A_member_added_before_any_of_their_devices_connected_gets_everything_since_joining_on_the_first_sync()
    {
        // Issue 10: tried as a new user would, this sync said count 0 and the chat list unread 0.
        var (ana, bo, cy) = (Unique("ana"), Unique("bo"), Unique("cy"));
        var anaPhone = await _system.ConnectAsync(0, ana, ana + "-phone");
        var chatId = await anaPhone.CreateChatAsync([cy], "before bo");
        await anaPhone.SendMessageAsync(chatId, "before bo joined");
        await anaPhone.AddMembersAsync(chatId, [bo]);
        await anaPhone.SendMessageAsync(chatId, "welcome bo");
        await DecidedAsync(anaPhone, chatId, await anaPhone.SendMessageAsync(chatId, "second"));

        var boPhone = await _system.ConnectAsync(0, bo, bo + "-phone");
        var synced = await boPhone.SyncAsync();

        synced.Count.Should().Be(3);
        synced.Frames.Where(f => InChat(f, chatId)).DistinctBy(Seq).Select(Describe).Should().Equal("members.added", "welcome bo", "second");
        (await UnreadAsync(bo, bo + "-phone", chatId)).Should().Be(2);
    }

    [Fact]
    public async Task A_later_device_of_a_user_starts_at_its_registration_and_the_first_keeps_everything()
    {
        var (ana, bo) = (Unique("ana"), Unique("bo"));
        var anaPhone = await _system.ConnectAsync(0, ana, ana + "-phone");
        var boPhone = await _system.ConnectAsync(0, bo, bo + "-phone");
        var chatId = await anaPhone.CreateChatAsync([bo], "companions");
        await DecidedAsync(anaPhone, chatId, await anaPhone.SendMessageAsync(chatId, "before the laptop"));
        await boPhone.CloseAsync();

        var boLaptop = await _system.ConnectAsync(0, bo, bo + "-laptop");
        await boLaptop.CloseAsync();
        await DecidedAsync(anaPhone, chatId, await anaPhone.SendMessageAsync(chatId, "after the laptop"));

        var laptopAgain = await _system.ConnectAsync(0, bo, bo + "-laptop");
        (await laptopAgain.SyncAsync()).Frames.Where(f => InChat(f, chatId)).DistinctBy(Seq).Select(Describe).Should().Equal("after the laptop");
        (await UnreadAsync(bo, bo + "-laptop", chatId)).Should().Be(1);

        var phoneAgain = await _system.ConnectAsync(0, bo, bo + "-phone");
        (await phoneAgain.SyncAsync()).Frames.Where(f => InChat(f, chatId)).DistinctBy(Seq).Select(Describe).Should().Equal("created", "before the laptop", "after the laptop");
        (await UnreadAsync(bo, bo + "-phone", chatId)).Should().Be(2);
    }

    [Fact]
    public async Task Unread_counts_other_members_messages_after_the_cursor_never_the_readers_own_nor_membership_changes()
    {
        // Issue 10: a one-message direct chat showed unread 2 to its sender.
        var (ana, bo) = (Unique("ana"), Unique("bo"));
        var anaPhone = await _system.ConnectAsync(0, ana, ana + "-phone");
        var accepted = await anaPhone.SendDirectMessageAsync(bo, "hi bo");
        var chatId = accepted.ChatId;

        await Eventually.TrueAsync(async () => await UnreadAsync(bo, bo + "-phone", chatId) == 1, Timeout, "the chat in bo's list with one unread message");
        (await UnreadAsync(ana, ana + "-phone", chatId)).Should().Be(0, "ana's own message and the chat's creation");
        (await UnreadAsync(ana, ana + "-laptop", chatId)).Should().Be(0, "from any of her devices");
        (await UnreadAsync(bo, bo + "-phone", chatId)).Should().Be(1);

        var boPhone = await _system.ConnectAsync(0, bo, bo + "-phone");
        var last = (await boPhone.SyncAsync()).Messages.Last(m => m.ChatId == chatId);
        last.Body.Should().Be("hi bo");
        await boPhone.AckAsync(chatId, last.Seq);
        await Eventually.TrueAsync(async () => await UnreadAsync(bo, bo + "-phone", chatId) == 0, Timeout, "bo's ack to clear his unread count");
    }

    /// <summary>
    /// The sender sees its own message once the Router decided it: "accepted" only says the command
    /// is in the log, and this test's order of sends and registrations must be the Router's order.
    /// </summary>
    private static Task<MessageFrame> DecidedAsync(ChatClient sender, string chatId, MessageAcceptedFrame accepted) =>
        sender.WaitForAsync<MessageFrame>(m => m.ChatId == chatId && m.MessageId == accepted.MessageId, Timeout);

    /// <summary>The device's unread count in the chat, or -1 while the chat is not in the user's list.</summary>
    private async Task<long> UnreadAsync(string user, string device, string chatId)
    {
        var edge = _system.Edges[0].BaseAddress;
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(edge, "/v1/chats"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await ChatClient.GetDevTokenAsync(edge, user, device));
        using var response = await _http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        foreach (var chat in json.RootElement.GetProperty("chats").EnumerateArray())
        {
            if (chat.GetProperty("chatId").GetString() == chatId)
            {
                return chat.GetProperty("unread").GetInt64();
            }
        }

        return -1;
    }

    private static bool InChat(ServerFrame frame, string chatId) => frame switch
    {
        MessageFrame m => m.ChatId == chatId,
        ChatUpdatedFrame u => u.ChatId == chatId,
        _ => false,
    };

    private static long Seq(ServerFrame frame) => frame switch
    {
        MessageFrame m => m.Seq,
        ChatUpdatedFrame u => u.Seq,
        _ => -1,
    };

    private static string Describe(ServerFrame frame) => frame switch
    {
        MessageFrame m => m.Body,
        ChatUpdatedFrame u => u.Change,
        _ => frame.GetType().Name,
    };

    private static string Unique(string name) => name + "-" + Guid.NewGuid().ToString("N")[..6];
}
