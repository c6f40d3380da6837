using Confluent.Kafka;
using Messaging.Client;
using Messaging.Contracts.Events;
using Messaging.Contracts.Protocol;
using Messaging.Contracts.Serialization;
using Messaging.Edge.Conversation;
using Messaging.Edge.Presence;
using Messaging.Hosting.Kafka;
using Messaging.IntegrationTests.Harness;
using Messaging.IntegrationTests.Telemetry;
using Microsoft.Extensions.DependencyInjection;

namespace Messaging.IntegrationTests.EndToEnd;

/// <summary>
/// Issue 11 through real sockets on two Edge nodes: delivery and read receipts (aggregated per
/// user, coalesced per chat and interval), history counts, the read-receipts setting, typing.
/// </summary>
public sealed class ReceiptsTests : IAsyncLifetime
{
    private const int FlushMs = 1000;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);
    private readonly List<string> _users = [];
    private ChatSystem _system = null!;

    public async Task InitializeAsync() => _system = await ChatSystem.StartAsync(edgeNodes: 2, configure: s =>
    {
        s["Conversation:ReceiptFlushMs"] = FlushMs.ToString(System.Globalization.CultureInfo.InvariantCulture);
        s["Conversation:TypingMembersCacheMs"] = "0";
    });

    public async Task DisposeAsync() => await _system.DisposeAsync();

    [Fact]
    public async Task Delivered_and_read_receipts_reach_both_devices_of_the_sender_with_per_user_counts_in_a_three_member_group()
    {
        var (ana, bo, cy) = (Unique("ana"), Unique("bo"), Unique("cy"));
        var anaPhone = await _system.ConnectAsync(0, ana, "phone");
        var anaLaptop = await _system.ConnectAsync(1, ana, "laptop");
        var boPhone = await _system.ConnectAsync(1, bo, "phone");
        var boLaptop = await _system.ConnectAsync(0, bo, "laptop");
        var cyPhone = await _system.ConnectAsync(0, cy, "phone");
        var chatId = await anaPhone.CreateChatAsync([bo, cy], "ticks");
        var sent = await anaPhone.SendMessageAsync(chatId, "are you there?");
        var seq = (await boPhone.WaitForAsync<MessageFrame>(m => m.MessageId == sent.MessageId, Timeout)).Seq;

        // Both of bo's devices ack (one user: counted once), cy's phone acks.
        await boPhone.AckAsync(chatId, seq);
        await boLaptop.AckAsync(chatId, seq);
        await (await cyPhone.WaitForAsync<MessageFrame>(m => m.MessageId == sent.MessageId, Timeout)).Let(m => cyPhone.AckAsync(chatId, m.Seq));
        foreach (var device in new[] { anaPhone, anaLaptop })
        {
            var book = await ReceiptsUntilAsync(device, chatId, ConversationStates.Delivered, seq, 2);
            book.PositionOf(chatId, ConversationStates.Delivered, ana).Should().Be(0, "the sender gets no receipt for itself");
        }

        await boPhone.ReadAsync(chatId, seq);
        var marker = await boLaptop.WaitForAsync<ReadMarkerFrame>(r => r.ChatId == chatId, Timeout);
        marker.Seq.Should().Be(seq, "the reader's other device learns the read marker");
        await cyPhone.ReadAsync(chatId, seq);
        foreach (var device in new[] { anaPhone, anaLaptop })
        {
            await ReceiptsUntilAsync(device, chatId, ConversationStates.Read, seq, 2);
        }

        var page = await EventuallyAsync(() => anaPhone.HistoryAsync(chatId), p => p.Messages.SingleOrDefault()?.ReadCount == 2);
        page.Messages.Single().DeliveredCount.Should().Be(2);
        var boPage = await EventuallyAsync(() => boLaptop.HistoryAsync(chatId), p => p.ReadSeq == seq);
        boPage.Messages.Single().DeliveredCount.Should().BeNull("counts are for the sender only");
    }

    [Fact]
    public async Task In_a_300_member_group_receipts_are_coalesced_per_interval_and_count_every_member()
    {
        const int members = 300;
        var owner = Unique("own");
        var ownerPhone = await _system.ConnectAsync(0, owner, "phone");
        var ownerLaptop = await _system.ConnectAsync(1, owner, "laptop");
        var others = Enumerable.Range(1, members - 1).Select(i => Unique("m" + i)).ToArray();
        var clients = new ChatClient[others.Length];
        for (var start = 0; start < others.Length; start += 25)
        {
            await Task.WhenAll(Enumerable.Range(start, Math.Min(25, others.Length - start))
                .Select(async i => clients[i] = await _system.ConnectAsync(i % 2, others[i], "phone")));
        }

        var chatId = await ownerPhone.CreateChatAsync(others, "three hundred");
        var sent = await ownerPhone.SendMessageAsync(chatId, "hello everyone");
        var started = DateTime.UtcNow;
        var seqs = await Task.WhenAll(clients.Select(async c =>
        {
            var m = await c.WaitForAsync<MessageFrame>(f => f.MessageId == sent.MessageId, Timeout);
            await c.AckAsync(chatId, m.Seq);
            await c.ReadAsync(chatId, m.Seq);
            return m.Seq;
        }));
        var seq = seqs[0];

        foreach (var device in new[] { ownerPhone, ownerLaptop })
        {
            var (_, deliveredFrames) = await CountedReceiptsUntilAsync(device, chatId, ConversationStates.Delivered, seq, members - 1);
            var (_, readFrames) = await CountedReceiptsUntilAsync(device, chatId, ConversationStates.Read, seq, members - 1);
            // Coalescing: at most one frame per node per state per flush interval, never one per member.
            var intervals = (int)Math.Ceiling((DateTime.UtcNow - started).TotalMilliseconds / FlushMs) + 1;
            deliveredFrames.Should().BeLessThanOrEqualTo(2 * intervals, "299 acks in {0} intervals", intervals).And.BeLessThan(members - 1);
            readFrames.Should().BeLessThanOrEqualTo(2 * intervals).And.BeLessThan(members - 1);
        }

        var page = await EventuallyAsync(() => ownerLaptop.HistoryAsync(chatId), p => p.Messages.SingleOrDefault()?.ReadCount == members - 1);
        page.Messages.Single().DeliveredCount.Should().Be(members - 1);
    }

    [Fact]
    public async Task A_user_with_read_receipts_off_shows_no_reads_and_sees_none()
    {
        var (ana, bo, cy) = (Unique("ana"), Unique("bo"), Unique("cy"));
        var anaPhone = await _system.ConnectAsync(0, ana, "phone");
        var boPhone = await _system.ConnectAsync(1, bo, "phone");
        var cyPhone = await _system.ConnectAsync(1, cy, "phone");
        (await boPhone.SetReadReceiptsAsync(false)).ReadReceipts.Should().BeFalse();
        var chatId = await anaPhone.CreateChatAsync([bo, cy], "private");

        // bo reads ana's message before cy on the same node: when cy's read reaches ana, bo's was gathered before it.
        var fromAna = await anaPhone.SendMessageAsync(chatId, "read me");
        var seq = (await boPhone.WaitForAsync<MessageFrame>(m => m.MessageId == fromAna.MessageId, Timeout)).Seq;
        // Receipts wait (Conversation:ReceiptRetries) for the chat read model to hold what was read;
        // under CI's load its lag outlasted this test's wait once: read once it is projected.
        await Projected.MessageAsync(boPhone, chatId, fromAna.MessageId, Timeout);
        await boPhone.AckAsync(chatId, seq);
        await boPhone.ReadAsync(chatId, seq);
        await (await cyPhone.WaitForAsync<MessageFrame>(m => m.MessageId == fromAna.MessageId, Timeout)).Let(m => cyPhone.ReadAsync(chatId, m.Seq));
        var book = await ReceiptsUntilAsync(anaPhone, chatId, ConversationStates.Read, seq, 1);
        book.PositionOf(chatId, ConversationStates.Read, cy).Should().Be(seq);
        book.PositionOf(chatId, ConversationStates.Read, bo).Should().Be(0, "bo's reads are shown to nobody");
        await ReceiptsUntilAsync(anaPhone, chatId, ConversationStates.Delivered, seq, 2, book);
        var anaPage = await EventuallyAsync(() => anaPhone.HistoryAsync(chatId), p => p.Messages.SingleOrDefault()?.ReadCount == 1);
        anaPage.Messages.Single().DeliveredCount.Should().Be(2, "delivered is not affected by the setting");

        // bo's own message: cy reads it, bo sees no read receipt and no read count.
        var fromBo = await boPhone.SendMessageAsync(chatId, "mine");
        var boSeq = (await cyPhone.WaitForAsync<MessageFrame>(m => m.MessageId == fromBo.MessageId, Timeout)).Seq;
        await Projected.MessageAsync(cyPhone, chatId, fromBo.MessageId, Timeout);
        await cyPhone.AckAsync(chatId, boSeq);
        await cyPhone.ReadAsync(chatId, boSeq);
        var boBook = await ReceiptsUntilAsync(boPhone, chatId, ConversationStates.Delivered, boSeq, 1);
        await EventuallyAsync(() => cyPhone.HistoryAsync(chatId), p => p.ReadSeq == boSeq);
        await boPhone.PingAsync();
        boBook.Count(chatId, ConversationStates.Read, boSeq).Should().Be(0);
        // Delivered to cy only (ana's phone never acked it): a wait for 2 here ran out its 90 s on every run.
        var boPage = await EventuallyAsync(() => boPhone.HistoryAsync(chatId), p => p.Messages[^1].DeliveredCount == 1);
        boPage.Messages[^1].DeliveredCount.Should().Be(1, "cy acked bo's message, ana did not");
        boPage.Messages[^1].ReadCount.Should().BeNull("a user with read receipts off sees none");

        (await boPhone.SetReadReceiptsAsync(true)).ReadReceipts.Should().BeTrue();
        var again = await EventuallyAsync(() => boPhone.HistoryAsync(chatId), p => p.Messages[^1].ReadCount == 1);
        again.Messages[^1].ReadCount.Should().Be(1);

        // bo's read made with receipts off stays private after they are on again; a read made now is cumulative.
        (await anaPhone.HistoryAsync(chatId)).Messages.Single(m => m.MessageId == fromAna.MessageId).ReadCount
            .Should().Be(1, "a read made while receipts were off is never revealed");
        var later = await anaPhone.SendMessageAsync(chatId, "and now?");
        var laterSeq = (await boPhone.WaitForAsync<MessageFrame>(m => m.MessageId == later.MessageId, Timeout)).Seq;
        await boPhone.ReadAsync(chatId, laterSeq);
        var shown = await EventuallyAsync(() => anaPhone.HistoryAsync(chatId), p => p.Messages.Any(m => m.MessageId == later.MessageId && m.ReadCount == 1));
        shown.Messages.Single(m => m.MessageId == fromAna.MessageId).ReadCount.Should().Be(2, "a read covers every earlier message");
    }

    [Fact]
    public async Task Typing_reaches_the_other_members_online_devices_and_is_never_in_chat_events()
    {
        var (ana, bo, cy) = (Unique("ana"), Unique("bo"), Unique("cy"));
        var anaPhone = await _system.ConnectAsync(0, ana, "phone");
        var anaLaptop = await _system.ConnectAsync(1, ana, "laptop");
        var boPhone = await _system.ConnectAsync(1, bo, "phone");
        var cyPhone = await _system.ConnectAsync(0, cy, "phone");
        var chatId = await anaPhone.CreateChatAsync([bo, cy], "typing");
        await cyPhone.WaitForAsync<ChatUpdatedFrame>(u => u.ChatId == chatId, Timeout);

        var seen = await TypeUntilSeenAsync(anaPhone, chatId, boPhone);
        foreach (var other in new[] { boPhone, cyPhone })
        {
            var push = other == boPhone ? seen : await other.WaitForAsync<TypingPushFrame>(t => t.ChatId == chatId, Timeout);
            push.UserId.Should().Be(ana);
            push.State.Should().Be(ConversationStates.Started);
            push.ExpiresInMs.Should().BeGreaterThan(0);
        }

        await anaPhone.TypingAsync(chatId, typing: false);
        // Renewed `started` pushes may come first; the `stopped` must follow them.
        (await boPhone.WaitForAsync<TypingPushFrame>(t => t.ChatId == chatId && t.State == ConversationStates.Stopped, Timeout)).UserId.Should().Be(ana);
        (await cyPhone.WaitForAsync<TypingPushFrame>(t => t.ChatId == chatId && t.State == ConversationStates.Stopped, Timeout)).UserId.Should().Be(ana);

        // The typist's own devices get nothing; a ping answered after the pushes above proves none was queued.
        await anaLaptop.PingAsync();
        await FluentActions.Awaiting(() => anaLaptop.WaitForAsync<TypingPushFrame>(null, TimeSpan.FromMilliseconds(300)))
            .Should().ThrowAsync<TimeoutException>();

        // A non-member is refused.
        var stranger = await _system.ConnectAsync(0, Unique("x"), "phone");
        await stranger.TypingAsync(chatId, typing: true);
        (await stranger.WaitForAsync<ErrorFrame>(null, Timeout)).Code.Should().Be(ErrorCodes.NotMember);

        // chat.events holds the chat's creation and nothing about typing.
        var types = ChatEventTypes(chatId);
        types.Should().Equal(nameof(ChatCreated));
    }

    [Fact]
    public async Task A_typist_whose_session_ends_without_stopped_is_shown_stopped_to_the_others_at_once()
    {
        var (ana, bo) = (Unique("ana"), Unique("bo"));
        var anaPhone = await _system.ConnectAsync(0, ana, "phone");
        var boPhone = await _system.ConnectAsync(1, bo, "phone");
        var chatId = await anaPhone.CreateChatAsync([bo], "gone");
        await boPhone.WaitForAsync<ChatUpdatedFrame>(u => u.ChatId == chatId, Timeout);
        (await TypeUntilSeenAsync(anaPhone, chatId, boPhone)).State.Should().Be(ConversationStates.Started);

        await anaPhone.CloseAsync();

        var stopped = await boPhone.WaitForAsync<TypingPushFrame>(t => t.ChatId == chatId && t.State == ConversationStates.Stopped, Timeout);
        (stopped.UserId, stopped.State).Should().Be((ana, ConversationStates.Stopped));
    }

    private List<string> ChatEventTypes(string chatId)
    {
        var clients = _system.Edges[0].Services.GetRequiredService<KafkaClientFactory>();
        var config = clients.ConsumerConfig("receipts-test-" + Guid.NewGuid().ToString("N"), "receipts-test");
        using var consumer = new ConsumerBuilder<string, byte[]>(config).Build();
        var topic = _system.Namespace.TopicPrefix + "chat.events";
        using var admin = new AdminClientBuilder(clients.AdminConfig("receipts-test")).Build();
        var partitions = admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics.Single().Partitions;
        var types = new List<string>();
        foreach (var p in partitions)
        {
            var tp = new TopicPartition(topic, p.PartitionId);
            var high = consumer.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(10)).High.Value;
            if (high == 0)
            {
                continue;
            }

            consumer.Assign(new TopicPartitionOffset(tp, Offset.Beginning));
            while (true)
            {
                var result = consumer.Consume(TimeSpan.FromSeconds(10)) ?? throw new TimeoutException("chat.events did not deliver");
                if (result.Message.Key == chatId)
                {
                    types.Add(Codecs.Events.Decode(result.Message.Value).Value!.GetType().Name);
                }

                if (result.Offset.Value >= high - 1)
                {
                    break;
                }
            }
        }

        return types;
    }

    private async Task<ReceiptBook> ReceiptsUntilAsync(ChatClient device, string chatId, string state, long seq, int users, ReceiptBook? book = null) =>
        (await CountedReceiptsUntilAsync(device, chatId, state, seq, users, book)).Book;

    /// <summary>Reads <paramref name="device"/>'s receipt frames of the chat until <paramref name="users"/> users reached <paramref name="seq"/> in the state; returns the frames of that state it took.</summary>
    private async Task<(ReceiptBook Book, int Frames)> CountedReceiptsUntilAsync(ChatClient device, string chatId, string state, long seq, int users, ReceiptBook? book = null)
    {
        book ??= new ReceiptBook();
        var frames = 0;
        while (book.Count(chatId, state, seq) < users)
        {
            ReceiptFrame frame;
            try
            {
                frame = await device.WaitForAsync<ReceiptFrame>(r => r.ChatId == chatId && r.State == state, Timeout);
            }
            catch (TimeoutException ex)
            {
                throw new TimeoutException($"{book.Count(chatId, state, seq)} of {users} users {state} after {frames} frames\n{await WhatTheNodesKnowAsync(chatId)}", ex);
            }

            frames++;
            book.Apply(frame);
        }

        return (book, frames);
    }

    /// <summary>
    /// Types until the receiver gets the typing push, renewing <c>started</c> every 3 s as a client does
    /// while the user types: a typist the chat read model does not list yet (a chat created a moment
    /// ago, under CI's load) is refused until the projection has it. Returns the first push.
    /// </summary>
    private static async Task<TypingPushFrame> TypeUntilSeenAsync(ChatClient typist, string chatId, ChatClient receiver)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (true)
        {
            await typist.TypingAsync(chatId, typing: true);
            try
            {
                return await receiver.WaitForAsync<TypingPushFrame>(t => t.ChatId == chatId, TimeSpan.FromSeconds(3));
            }
            catch (TimeoutException) when (DateTime.UtcNow < deadline)
            {
            }
        }
    }

    private static async Task<T> EventuallyAsync<T>(Func<Task<T>> read, Func<T, bool> done)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (true)
        {
            var value = await read();
            if (done(value) || DateTime.UtcNow > deadline)
            {
                return value;
            }

            await Task.Delay(100);
        }
    }

    /// <summary>For a receipt that never came: what each Edge node says about the test's users and its receipts, and what the chat read model holds.</summary>
    private async Task<string> WhatTheNodesKnowAsync(string chatId)
    {
        var text = new System.Text.StringBuilder();
        var now = DateTimeOffset.UtcNow;
        foreach (var (edge, node) in _system.Edges.Select((e, i) => (e, i)))
        {
            var presence = edge.Services.GetRequiredService<PresenceDirectory>();
            var settings = edge.Services.GetRequiredService<UserSettingsDirectory>();
            text.Append(System.Globalization.CultureInfo.InvariantCulture, $"node {node}: ");
            text.AppendJoin(", ", _users.Take(8).Select(u => $"{u} online {presence.Snapshot(u, now).DevicesOnline} receipts {(settings.ReadReceipts(u) ? "on" : "off")}"));
            var metrics = await PrometheusScrape.FetchAsync(edge.BaseAddress);
            text.AppendLine().AppendJoin('\n', metrics.Text.Split('\n').Where(l => l.StartsWith("messaging_edge_receipts", StringComparison.Ordinal)
                || l.StartsWith("messaging_edge_refusals", StringComparison.Ordinal)
                || (l.StartsWith("messaging_edge_frames_out", StringComparison.Ordinal) && l.Contains("Receipt", StringComparison.Ordinal))));
            text.AppendLine();
        }

        text.Append(System.Globalization.CultureInfo.InvariantCulture, $"chat read model: last_seq {await _system.CountAsync("select coalesce(max(last_seq), -1) from chats where chat_id = $1", chatId)}, ")
            .Append(System.Globalization.CultureInfo.InvariantCulture, $"messages {await _system.CountAsync("select count(*) from messages where chat_id = $1", chatId)}, ")
            .Append(System.Globalization.CultureInfo.InvariantCulture, $"members {await _system.CountAsync("select count(*) from chat_members where chat_id = $1", chatId)}, ")
            .Append(System.Globalization.CultureInfo.InvariantCulture, $"cursors {await _system.CountAsync("select count(*) from device_cursors where chat_id = $1", chatId)}, ")
            .Append(System.Globalization.CultureInfo.InvariantCulture, $"read markers {await _system.CountAsync("select count(*) from read_markers where chat_id = $1", chatId)}");
        return text.ToString();
    }

    private string Unique(string name)
    {
        var id = name + "-" + Guid.NewGuid().ToString("N")[..6];
        _users.Add(id);
        return id;
    }
}

internal static class TaskExtensions
{
    public static Task Let<T>(this T value, Func<T, Task> then) => then(value);
}
