using System.Net;
using System.Text.Json;
using Messaging.Contracts.Protocol;
using Messaging.Contracts.Serialization;
using static Messaging.IntegrationTests.Edge.EdgeHost;

namespace Messaging.IntegrationTests.Edge;

/// <summary>Small sync pages, so that a short sync already spans several PostgreSQL pages.</summary>
public sealed class SmallPagesEdgeHost : EdgeHost
{
    protected override void Configure(Dictionary<string, string?> settings) => settings["Edge:SyncPageSize"] = "2";
}

/// <summary>sync, history and the chat list, read from read-model rows the test writes directly.</summary>
public sealed class EdgeReadModelTests(SmallPagesEdgeHost edge) : IClassFixture<SmallPagesEdgeHost>
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    [Fact]
    public async Task Sync_streams_the_devices_pending_events_after_its_cursors_in_chat_and_seq_order_then_sync_done()
    {
        var user = NextId("u");
        var device = NextId("d");
        var chatA = NextId("chat") + "-a";
        var chatB = chatA[..^1] + "b";
        var notMine = chatA[..^1] + "c";
        await MessageAsync(chatA, 1, "a1");
        await ChangeAsync(chatA, 2, "members.added", ["x"]);
        await MessageAsync(chatA, 3, "a3");
        for (var seq = 1; seq <= 3; seq++)
        {
            await MessageAsync(chatB, seq, "b" + seq.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        await MessageAsync(notMine, 1, "c1");
        await ChatAsync(chatA, lastSeq: 3);
        await ChatAsync(chatB, lastSeq: 3);
        await ChatAsync(notMine, lastSeq: 1);
        await MemberAsync(chatA, user, joinedSeq: 1);
        await MemberAsync(chatB, user, joinedSeq: 1);
        await CursorAsync(user, device, chatB, 1);
        // Another user's device with the same id, and another device of this user: not this device's cursors.
        await CursorAsync(NextId("u"), device, chatA, 3);
        await CursorAsync(user, "someone-else", chatA, 3);

        var client = await edge.ConnectAsync(user, device);
        var sync = await client.SyncAsync();

        sync.Count.Should().Be(5);
        sync.Frames.Select(Position).Should().Equal((chatA, 1L), (chatA, 2L), (chatA, 3L), (chatB, 2L), (chatB, 3L));
        sync.Messages.First().Should().BeEquivalentTo(new { Body = "a1", ClientMsgId = "c1", SentAt = T0 });
        sync.Messages.First().Attachments.Should().ContainSingle().Which.Should().Be(new Messaging.Contracts.Commands.Attachment("m/1", "image/png", 3, "a.png"));
        sync.Frames[1].Should().BeOfType<ChatUpdatedFrame>().Which.Should().BeEquivalentTo(new { Change = "members.added", UserIds = new List<string> { "x" } });

        var limited = await client.SyncAsync(limit: 3);
        limited.Count.Should().Be(3);
        limited.Frames.Select(Position).Should().Equal((chatA, 1L), (chatA, 2L), (chatA, 3L));
    }

    [Fact]
    public async Task Sync_streams_a_former_member_the_range_up_to_the_removal_and_nothing_after()
    {
        var user = NextId("u");
        var chat = NextId("chat");
        for (var seq = 1; seq <= 4; seq++)
        {
            await MessageAsync(chat, seq, "m" + seq.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        await ChatAsync(chat, lastSeq: 4);
        await MemberAsync(chat, user, joinedSeq: 2, leftSeq: 3);

        var sync = await (await edge.ConnectAsync(user, NextId("d"))).SyncAsync();

        sync.Frames.Select(Position).Should().Equal((chat, 2L), (chat, 3L));
    }

    [Fact]
    public async Task History_pages_back_from_the_newest_message_and_only_from_the_members_join()
    {
        var chat = NextId("chat");
        var member = NextId("u");
        await ChangeAsync(chat, 1, "created", ["early"]);
        for (var seq = 2; seq <= 6; seq++)
        {
            await MessageAsync(chat, seq, "m" + seq.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        await MemberAsync(chat, member, joinedSeq: 3);
        var client = await edge.ConnectAsync(member, NextId("d"));

        var newest = await client.HistoryAsync(chat, limit: 2);
        newest.Messages.Select(m => m.Seq).Should().Equal(5, 6);
        newest.HasMore.Should().BeTrue();
        var older = await client.HistoryAsync(chat, beforeSeq: 5, limit: 2);
        older.Messages.Select(m => m.Seq).Should().Equal(3, 4);
        older.HasMore.Should().BeFalse("seq 2 was sent before the member joined");

        var outsider = await edge.ConnectAsync(NextId("u"), NextId("d"));
        var refused = () => outsider.HistoryAsync(chat);
        (await refused.Should().ThrowAsync<Messaging.Client.ChatServerException>()).Which.Code.Should().Be(ErrorCodes.NotMember);

        using var http = await edge.HttpClient.SendAsync(edge.Get($"/v1/chats/{chat}/messages?beforeSeq=6&limit=10", edge.Token(member, "web")));
        http.StatusCode.Should().Be(HttpStatusCode.OK);
        var page = Codecs.ServerFrames.Decode(await http.Content.ReadAsByteArrayAsync()).Value.Should().BeOfType<HistoryPageFrame>().Subject;
        page.Messages.Select(m => m.Seq).Should().Equal(3, 4, 5);

        using var forbidden = await edge.HttpClient.SendAsync(edge.Get($"/v1/chats/{chat}/messages", edge.Token("nobody", "web")));
        forbidden.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await forbidden.Content.ReadAsStringAsync()).Should().Contain(ErrorCodes.NotMember);
    }

    [Fact]
    public async Task The_chat_list_shows_the_callers_chats_with_last_message_and_other_members_messages_after_the_cursor_as_unread()
    {
        var user = NextId("u");
        var device = NextId("d");
        var chat = NextId("chat");
        await ChatAsync(chat, lastSeq: 5);
        await MemberAsync(chat, user, joinedSeq: 1);
        await ChangeAsync(chat, 1, "created", [user, "sender"]);
        await MessageAsync(chat, 2, "mine", sender: user);
        await MessageAsync(chat, 3, "first");
        await ChangeAsync(chat, 4, "members.added", ["x"]);
        await MessageAsync(chat, 5, "last");
        await CursorAsync(NextId("u"), device, chat, 5);

        var item = await ChatListItemAsync(user, device);
        item.GetProperty("chatId").GetString().Should().Be(chat);
        item.GetProperty("title").GetString().Should().Be("team");
        item.GetProperty("unread").GetInt64().Should().Be(2, "seq 3 and 5: not the creation, not the user's own message, not the membership change");
        item.GetProperty("lastMessage").GetProperty("body").GetString().Should().Be("last");
        item.GetProperty("lastMessage").GetProperty("seq").GetInt64().Should().Be(5);

        await CursorAsync(user, device, chat, 3);
        (await ChatListItemAsync(user, device)).GetProperty("unread").GetInt64().Should().Be(1);
    }

    private async Task<JsonElement> ChatListItemAsync(string user, string device)
    {
        using var response = await edge.HttpClient.SendAsync(edge.Get("/v1/chats", edge.Token(user, device)));
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("chats").EnumerateArray().Should().ContainSingle().Subject.Clone();
    }

    private static (string, long) Position(ServerFrame frame) => frame switch
    {
        MessageFrame m => (m.ChatId, m.Seq),
        ChatUpdatedFrame u => (u.ChatId, u.Seq),
        _ => ("?", -1),
    };

    private Task MessageAsync(string chat, long seq, string body, string sender = "sender") => edge.ExecuteAsync(
        """
        insert into messages (chat_id, seq, kind, message_id, client_msg_id, sender_user_id, sender_device_id, body, attachments, sent_at)
        values ($1, $2, 'message', $3, $4, $7, 'sender-phone', $5, '[{"key":"m/1","contentType":"image/png","size":3,"fileName":"a.png"}]'::jsonb, $6)
        """,
        chat, seq, Guid.CreateVersion7().ToString(), "c" + seq.ToString(System.Globalization.CultureInfo.InvariantCulture), body, T0, sender);

    private Task ChangeAsync(string chat, long seq, string kind, string[] userIds) => edge.ExecuteAsync(
        "insert into messages (chat_id, seq, kind, sender_user_id, sender_device_id, user_ids, sent_at) values ($1, $2, $3, 'sender', 'sender-phone', $4, $5)",
        chat, seq, kind, userIds, T0);

    private Task ChatAsync(string chat, long lastSeq) => edge.ExecuteAsync(
        "insert into chats (chat_id, kind, title, created_at, last_seq, last_event_at) values ($1, 'group', 'team', $2, $3, $2)", chat, T0, lastSeq);

    private Task CursorAsync(string user, string device, string chat, long seq) => edge.ExecuteAsync(
        "insert into device_cursors (user_id, device_id, chat_id, acked_seq) values ($1, $2, $3, $4) on conflict (user_id, device_id, chat_id) do update set acked_seq = excluded.acked_seq",
        user, device, chat, seq);

    private Task MemberAsync(string chat, string user, long joinedSeq, long? leftSeq = null) =>
        edge.ExecuteAsync("insert into chat_members (chat_id, user_id, role, joined_seq, left_seq) values ($1, $2, 'member', $3, $4)", chat, user, joinedSeq, leftSeq is { } left ? left : DBNull.Value);
}
