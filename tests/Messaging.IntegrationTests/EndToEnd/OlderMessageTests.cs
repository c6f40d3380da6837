using Messaging.Contracts.Protocol;
using Messaging.IntegrationTests.Harness;

namespace Messaging.IntegrationTests.EndToEnd;

/// <summary>
/// Messages older than the Router's recent-message index (configured to 2 here instead of 1,000):
/// without their seq the Router does not know them; with it Edge looks them up in the read model,
/// so an admin deletes, and members react and reply to, a message at any age.
/// </summary>
public sealed class OlderMessageTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private ChatSystem _system = null!;

    public async Task InitializeAsync() => _system = await ChatSystem.StartAsync(edgeNodes: 2, configure: s => s["Router:RecentClientMsgIds"] = "2");

    public async Task DisposeAsync() => await _system.DisposeAsync();

    [Fact]
    public async Task An_admin_deletes_and_members_react_and_reply_to_a_message_older_than_the_recent_index_by_its_seq()
    {
        var (ana, bo) = ("ana-" + Guid.NewGuid().ToString("N")[..6], "bo-" + Guid.NewGuid().ToString("N")[..6]);
        var anaPhone = await _system.ConnectAsync(0, ana, "phone");
        var boPhone = await _system.ConnectAsync(1, bo, "phone");
        var chatId = await anaPhone.CreateChatAsync([bo], "Archive");
        var old = await boPhone.SendMessageAsync(chatId, "from long ago");
        var oldSeq = (await anaPhone.WaitForAsync<MessageFrame>(m => m.MessageId == old.MessageId, Timeout)).Seq;
        MessageAcceptedFrame last = null!;
        for (var i = 0; i < 3; i++)
        {
            last = await anaPhone.SendMessageAsync(chatId, "newer " + i);
        }

        var lastSeq = (await boPhone.WaitForAsync<MessageFrame>(m => m.MessageId == last.MessageId, Timeout)).Seq;
        await Eventually.ReturnsAsync(() => anaPhone.HistoryAsync(chatId), p => p.Messages.Any(m => m.MessageId == last.MessageId), Timeout, "the messages in history");

        (await MessageContentTests.RefusalAsync(anaPhone, () => anaPhone.DeleteMessageAsync(chatId, old.MessageId))).Code
            .Should().Be(ErrorCodes.UnknownMessage, "without its seq the Router does not know a message older than its index");
        (await MessageContentTests.RefusalAsync(anaPhone, () => anaPhone.DeleteMessageAsync(chatId, old.MessageId, messageSeq: lastSeq))).Code
            .Should().Be(ErrorCodes.UnknownMessage, "a seq that is another message's finds nothing");

        await anaPhone.ReactAsync(chatId, old.MessageId, "👍", messageSeq: oldSeq);
        (await boPhone.WaitForAsync<ReactionFrame>(r => r.MessageId == old.MessageId, Timeout)).MessageSeq.Should().Be(oldSeq);
        var reply = await anaPhone.ReplyAsync(chatId, old.MessageId, "about that", replyToSeq: oldSeq);
        (await boPhone.WaitForAsync<MessageFrame>(m => m.MessageId == reply.MessageId, Timeout)).ReplyTo.Should().Be(old.MessageId);

        // A frame that waits for its lookup holds back the connection's later frames: the log keeps frame order.
        var looked = anaPhone.ReactAsync(chatId, old.MessageId, "🎉", messageSeq: oldSeq);
        var plain = anaPhone.SendMessageAsync(chatId, "right after the reaction");
        await Task.WhenAll(looked, plain);
        var reactionSeq = (await boPhone.WaitForAsync<ReactionFrame>(r => r.Emoji == "🎉", Timeout)).Seq;
        (await boPhone.WaitForAsync<MessageFrame>(m => m.MessageId == plain.Result.MessageId, Timeout)).Seq.Should().Be(reactionSeq + 1);

        await anaPhone.DeleteMessageAsync(chatId, old.MessageId, messageSeq: oldSeq);
        var deleted = await boPhone.WaitForAsync<MessageDeletedFrame>(d => d.MessageId == old.MessageId, Timeout);
        (deleted.MessageSeq, deleted.Actor.UserId).Should().Be((oldSeq, ana));
        var history = await Eventually.ReturnsAsync(
            () => boPhone.HistoryAsync(chatId), p => p.Messages.Any(m => m.MessageId == old.MessageId && m.DeletedAt is not null), Timeout, "the tombstone in history");
        history.Messages.Single(m => m.MessageId == old.MessageId).Body.Should().BeNullOrEmpty();

        (await MessageContentTests.RefusalAsync(boPhone, () => boPhone.ReactAsync(chatId, old.MessageId, "❤️", messageSeq: oldSeq))).Code
            .Should().Be(ErrorCodes.MessageDeleted, "the read model says it is a tombstone now");
    }
}
