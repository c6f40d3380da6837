using System.Globalization;
using Confluent.Kafka;
using Messaging.Client;
using Messaging.Contracts.Protocol;
using Messaging.Contracts.Topics;
using Messaging.Edge.Sync;
using Messaging.Hosting.Kafka;
using Messaging.IntegrationTests.Harness;
using Messaging.ReadModels.Checkpoints;
using Microsoft.Extensions.DependencyInjection;

namespace Messaging.IntegrationTests.EndToEnd;

/// <summary>
/// <c>sync</c> waits for the chat projection to apply what was in <c>chat.events</c> when it
/// began. Before, a device that reconnected right after messages were sent to it while offline
/// could sync ahead of the projection and get them only on a later sync.
/// </summary>
public sealed class CausalSyncTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private const int Messages = 30;

    [Fact]
    public async Task Device_that_reconnects_and_syncs_at_once_after_messages_were_sent_to_it_gets_all_of_them_in_order()
    {
        await using var system = await ChatSystem.StartAsync(edgeNodes: 2);
        var (ana, bo) = (Unique("ana"), Unique("bo"));
        var (anaPhone, chatId, boDevice) = await ChatWithOfflineBoAsync(system, ana, bo);

        var sent = await SendAndSeeDecidedAsync(anaPhone, chatId, Messages);

        // No wait for the history: the sync itself must wait for the projection.
        var boAgain = await system.ConnectAsync(0, bo, boDevice);
        var synced = await boAgain.SyncAsync();

        var messages = synced.Frames.OfType<MessageFrame>().Where(m => m.ChatId == chatId).ToList();
        messages.Select(m => m.MessageId).Should().Equal(sent, "every message sent before the sync, in seq order");
        messages.Select(m => m.Seq).Should().BeInAscendingOrder();
    }

    [Fact]
    public async Task Sync_waits_for_a_stopped_chat_projection_to_catch_up_and_then_streams_everything_sent_before_it()
    {
        await using var system = await ChatSystem.StartAsync(edgeNodes: 1, configure: s => s["Edge:SyncCatchUpMs"] = "25000");
        var (ana, bo) = (Unique("ana"), Unique("bo"));
        var (anaPhone, chatId, boDevice) = await ChatWithOfflineBoAsync(system, ana, bo);
        await system.StopProjectionsAsync();

        var sent = await SendAndSeeDecidedAsync(anaPhone, chatId, Messages);
        var boAgain = await system.ConnectAsync(0, bo, boDevice);
        var syncing = boAgain.RequestAsync<SyncDoneFrame>(new SyncFrame());
        await system.RestartProjectionsAsync();
        var done = await syncing;

        done.Partial.Should().BeNull("the projection caught up within Edge:SyncCatchUpMs");
        var messages = await ReceivedAsync(boAgain, chatId, Messages);
        messages.Select(m => m.MessageId).Should().Equal(sent);
    }

    [Fact]
    public async Task History_of_a_chat_the_read_model_has_not_seen_yet_waits_for_it_instead_of_answering_not_member()
    {
        await using var system = await ChatSystem.StartAsync(edgeNodes: 1, configure: s => s["Edge:SyncCatchUpMs"] = "25000");
        var (ana, bo) = (Unique("ana"), Unique("bo"));
        var anaPhone = await system.ConnectAsync(0, ana, "phone");
        var boPhone = await system.ConnectAsync(0, bo, "phone", new ChatClientOptions { BufferFrames = true });
        await system.StopProjectionsAsync();

        // Created and pushed while no projection runs: chat_members does not know either member yet.
        var chatId = await anaPhone.CreateChatAsync([bo], "new");
        var sent = await anaPhone.SendMessageAsync(chatId, "first");
        await boPhone.WaitForAsync<MessageFrame>(m => m.MessageId == sent.MessageId, Timeout);
        var opening = boPhone.HistoryAsync(chatId);
        await system.RestartProjectionsAsync();
        var page = await opening;

        page.Messages.Select(m => m.MessageId).Should().Equal([sent.MessageId], "the history waited for the chat read model");
    }

    [Fact]
    public async Task Sync_that_times_out_waiting_for_the_chat_projection_streams_what_is_there_and_says_partial()
    {
        await using var system = await ChatSystem.StartAsync(edgeNodes: 1, configure: s => s["Edge:SyncCatchUpMs"] = "500");
        var (ana, bo) = (Unique("ana"), Unique("bo"));
        var (anaPhone, chatId, boDevice) = await ChatWithOfflineBoAsync(system, ana, bo);
        await Eventually.TrueAsync(
            async () => await system.CountAsync("select count(*) from messages where chat_id = $1", chatId) == 1,
            Timeout,
            "the chat's creation in its history");
        await system.StopProjectionsAsync();

        var sent = await SendAndSeeDecidedAsync(anaPhone, chatId, Messages);
        var boAgain = await system.ConnectAsync(0, bo, boDevice);
        var partial = await boAgain.RequestAsync<SyncDoneFrame>(new SyncFrame());

        partial.Partial.Should().BeTrue("the projection is stopped, so the history cannot reach the log");
        partial.Count.Should().Be(1, "only the chat's creation was projected before the projection stopped");

        // The short catch-up bound would also cut off a sync racing the restarted projection's
        // first pages: sync again once the history holds everything, as a client would after a back-off.
        // It waits for what the sync itself waits for: the chat projection's checkpoints at the end of
        // chat.events. The history rows alone were not enough: records after the messages were still
        // being applied, and a fresh-clone CI run's 500 ms sync said partial.
        await system.RestartProjectionsAsync();
        await Eventually.TrueAsync(
            async () => await system.CountAsync("select count(*) from messages where chat_id = $1", chatId) == Messages + 1
                && await ChatProjectionAtTheEndAsync(system),
            Timeout,
            "the restarted projection to write the missed messages and reach the end of chat.events");
        // Even then the 500 ms bound can run out on a loaded machine before the sync has read the
        // watermarks (a fresh-clone CI run said partial once more): sync again, as a client would
        // after a back-off, until a sync says it is complete.
        SyncDoneFrame? complete = null;
        await Eventually.TrueAsync(
            async () => (complete = await boAgain.RequestAsync<SyncDoneFrame>(new SyncFrame())).Partial is null,
            Timeout,
            "a sync that is not partial");
        complete!.Count.Should().Be(Messages + 1);
        var messages = await ReceivedAsync(boAgain, chatId, Messages);
        messages.Select(m => m.MessageId).Should().Equal(sent);
    }

    /// <summary>Ana (online on node 0) and Bo in a new chat; Bo's device saw the creation and went offline.</summary>
    private static async Task<(ChatClient AnaPhone, string ChatId, string BoDevice)> ChatWithOfflineBoAsync(ChatSystem system, string ana, string bo)
    {
        var boDevice = bo + "-phone";
        var anaPhone = await system.ConnectAsync(0, ana, ana + "-phone");
        var boFirst = await system.ConnectAsync(system.Edges.Count - 1, bo, boDevice);
        var chatId = await anaPhone.CreateChatAsync([bo], "causal");
        await boFirst.WaitForAsync<ChatUpdatedFrame>(u => u.ChatId == chatId, Timeout);
        await boFirst.CloseAsync();
        return (anaPhone, chatId, boDevice);
    }

    /// <summary>
    /// Sends <paramref name="count"/> messages and waits until the sender got each one back as a
    /// push: then the Router has appended them to <c>chat.events</c> (a send that is only accepted
    /// may still be a command; the Router routes it live to a device that connects before it decides).
    /// </summary>
    private static async Task<List<string>> SendAndSeeDecidedAsync(ChatClient sender, string chatId, int count)
    {
        var sent = new List<string>();
        for (var i = 1; i <= count; i++)
        {
            sent.Add((await sender.SendMessageAsync(chatId, "missed " + i.ToString(CultureInfo.InvariantCulture))).MessageId);
        }

        foreach (var messageId in sent)
        {
            await sender.WaitForAsync<MessageFrame>(m => m.MessageId == messageId, Timeout);
        }

        return sent;
    }

    /// <summary>The message frames of <paramref name="chatId"/> buffered so far (a sync reply follows its frames).</summary>
    private static async Task<List<MessageFrame>> ReceivedAsync(ChatClient client, string chatId, int count)
    {
        var messages = new List<MessageFrame>();
        for (var i = 0; i < count; i++)
        {
            messages.Add(await client.WaitForAsync<MessageFrame>(m => m.ChatId == chatId, Timeout));
        }

        return messages;
    }

    /// <summary>Whether the <c>chat</c> projection's checkpoints reached the high watermark of every <c>chat.events</c> partition.</summary>
    private static async Task<bool> ChatProjectionAtTheEndAsync(ChatSystem system)
    {
        var services = system.Edges[0].Services;
        var topic = services.GetRequiredService<TopicNames>().ChatEvents;
        var targets = await Task.Run(() =>
        {
            var clients = services.GetRequiredService<KafkaClientFactory>();
            using var admin = new AdminClientBuilder(clients.AdminConfig("causal-sync-tests")).Build();
            using var consumer = new ConsumerBuilder<string, byte[]>(clients.ConsumerConfig("probe-" + Guid.NewGuid().ToString("N"), "causal-sync-tests")).Build();
            var partitions = admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics.Single().Partitions
                .Select(p => new TopicPartition(topic, p.PartitionId))
                .OrderBy(p => p.Partition.Value)
                .ToArray();
            return HighWatermarks.Query(consumer, partitions, TimeSpan.FromSeconds(10));
        });
        var applied = await new CheckpointStore(system.Database).AppliedAsync(InboxCatchUp.SyncProjections, topic, CancellationToken.None);
        return CatchUpProgress.PartitionsBehind(targets, applied) == 0;
    }

    private static string Unique(string name) => name + "-" + Guid.NewGuid().ToString("N")[..6];
}
