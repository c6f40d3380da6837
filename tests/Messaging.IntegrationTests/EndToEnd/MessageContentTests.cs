using Messaging.Client;
using Messaging.Contracts.Commands;
using Messaging.Contracts.Protocol;
using Messaging.IntegrationTests.Harness;

namespace Messaging.IntegrationTests.EndToEnd;

/// <summary>
/// Issue 11 through real sockets on two Edge nodes: edits, deletes for everyone, reactions,
/// replies and per-device payloads, live, in sync, in history and in the read-model tables.
/// </summary>
public sealed class MessageContentTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private ChatSystem _system = null!;

    public async Task InitializeAsync() => _system = await ChatSystem.StartAsync(edgeNodes: 2);

    public async Task DisposeAsync() => await _system.DisposeAsync();

    [Fact]
    public async Task An_edit_reaches_every_device_live_and_history_and_sync_show_the_latest_body_with_editedAt()
    {
        var (ana, bo) = (Unique("ana"), Unique("bo"));
        var anaPhone = await _system.ConnectAsync(0, ana, "phone");
        var boPhone = await _system.ConnectAsync(1, bo, "phone", new ChatClientOptions { BufferFrames = true });
        var chatId = await anaPhone.CreateChatAsync([bo], "Edits");
        var sent = await anaPhone.SendMessageAsync(chatId, "see you at 8");
        await boPhone.WaitForAsync<MessageFrame>(m => m.MessageId == sent.MessageId, Timeout);

        await anaPhone.EditMessageAsync(chatId, sent.MessageId, "see you at 9");

        var live = await boPhone.WaitForAsync<MessageEditedFrame>(e => e.MessageId == sent.MessageId, Timeout);
        live.Body.Should().Be("see you at 9");
        live.Actor.UserId.Should().Be(ana);
        await anaPhone.WaitForAsync<MessageEditedFrame>(e => e.MessageId == sent.MessageId, Timeout);
        var history = await Eventually.ReturnsAsync(
            () => boPhone.HistoryAsync(chatId), p => p.Messages.Any(m => m.EditedAt is not null), Timeout, "the edit in history");
        var message = history.Messages.Single(m => m.MessageId == sent.MessageId);
        message.Body.Should().Be("see you at 9");
        message.EditedAt.Should().BeCloseTo(live.EditedAt, TimeSpan.FromMilliseconds(1), "PostgreSQL keeps microseconds");

        // bo's phone acked nothing: its sync carries the message as it is now, then the edit.
        var synced = await boPhone.SyncAsync();
        synced.Frames.OfType<MessageFrame>().Single(m => m.MessageId == sent.MessageId).Body.Should().Be("see you at 9");
        synced.Frames.OfType<MessageEditedFrame>().Should().ContainSingle(e => e.MessageId == sent.MessageId && e.Body == "see you at 9");
    }

    [Fact]
    public async Task Another_members_edit_and_a_non_admins_delete_of_someone_elses_message_are_refused()
    {
        var (ana, bo, cy) = (Unique("ana"), Unique("bo"), Unique("cy"));
        var anaPhone = await _system.ConnectAsync(0, ana, "phone");
        var boPhone = await _system.ConnectAsync(1, bo, "phone");
        var cyPhone = await _system.ConnectAsync(1, cy, "phone");
        var chatId = await anaPhone.CreateChatAsync([bo, cy], "Rules");
        var sent = await boPhone.SendMessageAsync(chatId, "mine");
        await cyPhone.WaitForAsync<MessageFrame>(m => m.MessageId == sent.MessageId, Timeout);

        (await RefusalAsync(cyPhone, () => cyPhone.EditMessageAsync(chatId, sent.MessageId, "yours now"))).Code.Should().Be(ErrorCodes.NotAllowed);
        (await RefusalAsync(cyPhone, () => cyPhone.DeleteMessageAsync(chatId, sent.MessageId))).Code.Should().Be(ErrorCodes.NotAllowed);
        (await RefusalAsync(cyPhone, () => cyPhone.EditMessageAsync(chatId, "0193a6c3-0000-7000-8000-000000000000", "x"))).Code.Should().Be(ErrorCodes.UnknownMessage);

        // The refusals come from the Router; history is the chat read model, which may still lag the pushes.
        var history = await Projected.MessageAsync(boPhone, chatId, sent.MessageId, Timeout);
        var message = history.Messages.Single(m => m.MessageId == sent.MessageId);
        (message.Body, message.EditedAt, message.DeletedAt).Should().Be(("mine", null, null));
    }

    [Fact]
    public async Task A_deleted_messages_body_is_absent_from_history_sync_and_the_read_model_tables()
    {
        var (ana, bo, cy) = (Unique("ana"), Unique("bo"), Unique("cy"));
        var secret = "secret-" + Guid.NewGuid().ToString("N");
        var anaPhone = await _system.ConnectAsync(0, ana, "phone", new ChatClientOptions { BufferFrames = true });
        var boPhone = await _system.ConnectAsync(1, bo, "phone");
        var cyPhone = await _system.ConnectAsync(1, cy, "phone");
        var chatId = await anaPhone.CreateChatAsync([bo, cy], "Oops");
        var sent = await boPhone.SendMessageAsync(chatId, secret, attachments: [new Attachment("m/" + bo + "/k1", "image/png", 10, "a.png")]);
        await anaPhone.WaitForAsync<MessageFrame>(m => m.MessageId == sent.MessageId, Timeout);
        await boPhone.EditMessageAsync(chatId, sent.MessageId, secret + " (edited)");
        await anaPhone.WaitForAsync<MessageEditedFrame>(e => e.MessageId == sent.MessageId, Timeout);
        await cyPhone.ReactAsync(chatId, sent.MessageId, "😮");
        await anaPhone.WaitForAsync<ReactionFrame>(r => r.MessageId == sent.MessageId, Timeout);

        await boPhone.DeleteMessageAsync(chatId, sent.MessageId);

        var live = await anaPhone.WaitForAsync<MessageDeletedFrame>(d => d.MessageId == sent.MessageId, Timeout);
        live.Actor.UserId.Should().Be(bo);
        var history = await Eventually.ReturnsAsync(
            () => anaPhone.HistoryAsync(chatId), p => p.Messages.Any(m => m.DeletedAt is not null), Timeout, "the tombstone in history");
        var tombstone = history.Messages.Single(m => m.MessageId == sent.MessageId);
        tombstone.Body.Should().BeEmpty();
        tombstone.Attachments.Should().BeNull();
        tombstone.Reactions.Should().BeNull();
        tombstone.DeletedAt.Should().BeCloseTo(live.DeletedAt, TimeSpan.FromMilliseconds(1), "PostgreSQL keeps microseconds");
        tombstone.Sender.UserId.Should().Be(bo, "a tombstone keeps its place and sender");

        var synced = await anaPhone.SyncAsync();
        synced.Frames.OfType<MessageFrame>().Single(m => m.MessageId == sent.MessageId).Should().Match<MessageFrame>(m => m.Body == "" && m.Attachments == null && m.DeletedAt != null);
        synced.Frames.OfType<MessageEditedFrame>().Single(e => e.MessageId == sent.MessageId).Body.Should().BeEmpty("an edit's text goes with the message");
        synced.Frames.OfType<MessageDeletedFrame>().Should().ContainSingle(d => d.MessageId == sent.MessageId);

        (await _system.CountAsync($"select count(*) from messages where chat_id = $1 and (body like '%{secret}%' or attachments is not null or payloads is not null)", chatId)).Should().Be(0);
        (await _system.CountAsync("select count(*) from messages m where m.chat_id = $1 and m::text like $2", chatId, "%" + secret + "%")).Should().Be(0, "no column of any row holds the text");
        (await RefusalAsync(boPhone, () => boPhone.EditMessageAsync(chatId, sent.MessageId, "back"))).Code.Should().Be(ErrorCodes.MessageDeleted);
    }

    [Fact]
    public async Task An_admin_deletes_a_members_message_for_everyone()
    {
        var (ana, bo) = (Unique("ana"), Unique("bo"));
        var anaPhone = await _system.ConnectAsync(0, ana, "phone");
        var boPhone = await _system.ConnectAsync(1, bo, "phone");
        var chatId = await anaPhone.CreateChatAsync([bo], "Moderated");
        var sent = await boPhone.SendMessageAsync(chatId, "spam");
        await anaPhone.WaitForAsync<MessageFrame>(m => m.MessageId == sent.MessageId, Timeout);

        await anaPhone.DeleteMessageAsync(chatId, sent.MessageId);

        var deleted = await boPhone.WaitForAsync<MessageDeletedFrame>(d => d.MessageId == sent.MessageId, Timeout);
        deleted.Actor.UserId.Should().Be(ana);
    }

    [Fact]
    public async Task Reactions_are_one_per_user_replaceable_and_removable_and_history_shows_them_per_message()
    {
        var (ana, bo, cy) = (Unique("ana"), Unique("bo"), Unique("cy"));
        var anaPhone = await _system.ConnectAsync(0, ana, "phone");
        var boPhone = await _system.ConnectAsync(1, bo, "phone");
        var cyPhone = await _system.ConnectAsync(0, cy, "phone");
        var chatId = await anaPhone.CreateChatAsync([bo, cy], "Reactions");
        var first = await anaPhone.SendMessageAsync(chatId, "lunch?");
        var second = await anaPhone.SendMessageAsync(chatId, "noon?");
        await cyPhone.WaitForAsync<MessageFrame>(m => m.MessageId == second.MessageId, Timeout);

        await boPhone.ReactAsync(chatId, first.MessageId, "👍");
        await cyPhone.ReactAsync(chatId, first.MessageId, "👎");
        await cyPhone.ReactAsync(chatId, first.MessageId, "❤️");
        await boPhone.ReactAsync(chatId, second.MessageId, "😂");
        await boPhone.ReactAsync(chatId, second.MessageId, null);

        var removal = await anaPhone.WaitForAsync<ReactionFrame>(r => r.MessageId == second.MessageId && r.Emoji == null, Timeout);
        removal.Actor.UserId.Should().Be(bo);
        // The projection applies a chat's events in seq order, so once a message sent after the reactions is in history, every
        // reaction is too. Waiting on the reactions themselves passed too early: cy's first reaction and no reaction on the
        // second message is also an intermediate state (fresh-clone CI, 2026-11-27).
        var last = await anaPhone.SendMessageAsync(chatId, "see you");
        var history = await Eventually.ReturnsAsync(
            () => anaPhone.HistoryAsync(chatId), p => p.Messages.Any(m => m.MessageId == last.MessageId), Timeout, "the message after the reactions in history");
        history.Messages.Single(m => m.MessageId == second.MessageId).Reactions.Should().BeNull("bo removed his reaction");
        history.Messages.Single(m => m.MessageId == first.MessageId).Reactions.Should().BeEquivalentTo([new MessageReaction(bo, "👍"), new MessageReaction(cy, "❤️")]);
    }

    [Fact]
    public async Task A_reply_names_a_message_of_the_same_chat_and_a_reply_to_another_chats_message_is_refused()
    {
        var (ana, bo) = (Unique("ana"), Unique("bo"));
        var anaPhone = await _system.ConnectAsync(0, ana, "phone");
        var boPhone = await _system.ConnectAsync(1, bo, "phone");
        var chatId = await anaPhone.CreateChatAsync([bo], "Here");
        var elsewhere = await anaPhone.CreateChatAsync([bo], "There");
        var original = await anaPhone.SendMessageAsync(chatId, "question");
        var other = await anaPhone.SendMessageAsync(elsewhere, "other chat");
        await boPhone.WaitForAsync<MessageFrame>(m => m.MessageId == other.MessageId, Timeout);

        var reply = await boPhone.ReplyAsync(chatId, original.MessageId, "answer");
        var live = await anaPhone.WaitForAsync<MessageFrame>(m => m.MessageId == reply.MessageId, Timeout);
        live.ReplyTo.Should().Be(original.MessageId);
        (await RefusalAsync(boPhone, () => boPhone.ReplyAsync(chatId, other.MessageId, "wrong chat"))).Code.Should().Be(ErrorCodes.UnknownMessage);

        var history = await Eventually.ReturnsAsync(
            () => anaPhone.HistoryAsync(chatId), p => p.Messages.Any(m => m.MessageId == reply.MessageId), Timeout, "the reply in history");
        history.Messages.Single(m => m.MessageId == reply.MessageId).ReplyTo.Should().Be(original.MessageId);
        history.Messages.Should().HaveCount(2, "the refused reply took no seq");
    }

    [Fact]
    public async Task Per_device_payloads_reach_each_device_with_only_its_own_ciphertext_live_in_sync_and_in_history()
    {
        var (ana, bo) = (Unique("ana"), Unique("bo"));
        var options = new ChatClientOptions { BufferFrames = true };
        var anaPhone = await _system.ConnectAsync(0, ana, "phone", options);
        var anaLaptop = await _system.ConnectAsync(1, ana, "laptop", options);
        var boPhone = await _system.ConnectAsync(1, bo, "phone", options);
        var chatId = await anaPhone.CreateChatAsync([bo], "Sealed");
        await boPhone.WaitForAsync<ChatUpdatedFrame>(u => u.ChatId == chatId, Timeout);
        var devices = new Dictionary<string, ChatClient>
        {
            [ana + "/phone"] = anaPhone,
            [ana + "/laptop"] = anaLaptop,
            [bo + "/phone"] = boPhone,
        };
        var payloads = devices.Keys.ToDictionary(a => a, Ciphertext);

        var sent = await anaPhone.SendEncryptedAsync(chatId, payloads);

        foreach (var (address, client) in devices)
        {
            var live = await client.WaitForAsync<MessageFrame>(m => m.MessageId == sent.MessageId, Timeout);
            live.Payload.Should().Be(payloads[address], $"{address} gets its own ciphertext live");
            live.Body.Should().BeEmpty();
        }

        foreach (var (address, client) in devices)
        {
            var synced = await client.SyncAsync();
            synced.Frames.OfType<MessageFrame>().Where(m => m.MessageId == sent.MessageId).Should().NotBeEmpty()
                .And.OnlyContain(m => m.Payload == payloads[address], $"{address} gets its own ciphertext in sync");
            var history = await Projected.MessageAsync(client, chatId, sent.MessageId, Timeout);
            history.Messages.Single(m => m.MessageId == sent.MessageId).Payload.Should().Be(payloads[address], $"{address} gets its own ciphertext in history");
        }

        // An encrypted edit replaces each device's ciphertext the same way.
        var edited = devices.Keys.ToDictionary(a => a, a => Ciphertext(a + "#2"));
        await anaPhone.EditEncryptedAsync(chatId, sent.MessageId, edited);
        (await boPhone.WaitForAsync<MessageEditedFrame>(e => e.MessageId == sent.MessageId, Timeout)).Payload.Should().Be(edited[bo + "/phone"]);
        (await anaLaptop.WaitForAsync<MessageEditedFrame>(e => e.MessageId == sent.MessageId, Timeout)).Payload.Should().Be(edited[ana + "/laptop"]);
    }

    [Fact]
    public async Task A_stale_device_list_is_refused_with_the_current_one_and_the_re_encrypted_send_is_accepted()
    {
        var (ana, bo) = (Unique("ana"), Unique("bo"));
        var anaPhone = await _system.ConnectAsync(0, ana, "phone");
        var boPhone = await _system.ConnectAsync(1, bo, "phone");
        var chatId = await anaPhone.CreateChatAsync([bo], "Sealed");
        await boPhone.WaitForAsync<ChatUpdatedFrame>(u => u.ChatId == chatId, Timeout);
        var stale = new[] { ana + "/phone", bo + "/phone" }.ToDictionary(a => a, Ciphertext);
        var boTablet = await _system.ConnectAsync(0, bo, "tablet");

        var refusal = await RefusalAsync(anaPhone, () => anaPhone.SendEncryptedAsync(chatId, stale));

        refusal.Code.Should().Be(ErrorCodes.DeviceListChanged);
        refusal.Devices.Should().BeEquivalentTo(ana + "/phone", bo + "/phone", bo + "/tablet");
        var fresh = refusal.Devices!.ToDictionary(a => a, Ciphertext);
        var sent = await anaPhone.SendEncryptedAsync(chatId, fresh);
        (await boTablet.WaitForAsync<MessageFrame>(m => m.MessageId == sent.MessageId, Timeout)).Payload.Should().Be(fresh[bo + "/tablet"]);
    }

    /// <summary>
    /// The Router's refusal of a request: it may come as the reply (it overtook Edge's
    /// acceptance) or after the acceptance, as an error frame with the request's id.
    /// </summary>
    internal static async Task<ErrorFrame> RefusalAsync<TReply>(ChatClient client, Func<Task<TReply>> request)
        where TReply : ServerFrame
    {
        try
        {
            var reply = await request();
            var id = reply switch
            {
                AcceptedFrame a => a.Id,
                MessageAcceptedFrame m => m.Id,
                _ => throw new InvalidOperationException("unexpected reply " + reply),
            };
            return await client.WaitForAsync<ErrorFrame>(e => e.Id == id, Timeout);
        }
        catch (ChatServerException ex)
        {
            return ex.Error;
        }
    }

    private static string Ciphertext(string address) => Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("sealed for " + address));

    private static string Unique(string name) => name + "-" + Guid.NewGuid().ToString("N")[..6];
}
