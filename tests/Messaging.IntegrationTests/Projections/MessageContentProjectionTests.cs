using Messaging.Contracts.Events;

namespace Messaging.IntegrationTests.Projections;

/// <summary>
/// Edits, deletes for everyone and reactions in the chat read model (issue 11): the live
/// projection folds them into the message rows, a rebuild from the log produces exactly the same
/// rows, and a deleted message's text is in no row.
/// </summary>
public sealed class MessageContentProjectionTests : IAsyncLifetime
{
    private ProjectionsTestContext _ctx = null!;
    private int _events;

    public async Task InitializeAsync() => _ctx = await ProjectionsTestContext.CreateAsync();

    public async Task DisposeAsync() => await _ctx.DisposeAsync();

    [Fact]
    public async Task Rebuild_reproduces_edits_deletes_and_reactions_exactly_and_keeps_deleted_text_out()
    {
        await _ctx.StartAsync();
        for (var c = 0; c < 4; c++)
        {
            await WorkloadAsync($"k{c}");
        }

        await _ctx.WaitForAsync("select coalesce(sum(next_offset), 0) from checkpoints where projection = 'chat'", _events, "chat projection at the end of the log", 90);
        var live = await _ctx.DumpAsync("messages");

        (await _ctx.DumpAsync("select seq, body, edited_at is not null, edit_seq from messages where chat_id = 'k0' and seq = 2"))
            .Should().Equal("(2,\"second edit\",t,7)");
        (await _ctx.DumpAsync("select seq, reactions::text, reactions_seq from messages where chat_id = 'k0' and seq = 3"))
            .Should().Equal("(3,\"{\"\"bob\"\": \"\"❤️\"\"}\",15)");
        (await _ctx.DumpAsync("select seq, body, payloads, attachments, reactions, deleted_at < '" + Events.Epoch.AddMilliseconds(100).UtcDateTime.ToString("O") + "'::timestamptz from messages where chat_id = 'k0' and seq = 4"))
            .Should().Equal(["(4,,,,,t)"], "the first copy of a duplicated delete sets the tombstone's time");
        (await _ctx.CountAsync("select count(*) from messages where body like '%secret%' or payloads::text like '%c2VjcmV0%'")).Should().Be(0);
        (await _ctx.CountAsync("select count(*) from messages where kind = 'message.edited' and target_seq = 4 and body is null and payloads is null")).Should().Be(4, "each chat's edit of the deleted message lost its text");

        var (code, output) = await _ctx.CliAsync("rebuild", "--projection", "chat");

        code.Should().Be(0, output);
        var rebuilt = await _ctx.DumpAsync("messages");
        rebuilt.Should().Equal(live, "the messages rebuilt from the log must equal the live ones, edits, deletes and reactions included");
        (await _ctx.CountAsync("select count(*) from messages where body like '%secret%'")).Should().Be(0);
    }

    /// <summary>
    /// One chat: seq 2 edited twice; seq 3 reacted to, replaced, removed and set again; seq 4
    /// (encrypted, with an attachment and a reaction) edited then deleted; seq 5 a reply. Then
    /// duplicates as an at-least-once log holds them: an older edit and reaction again (they must
    /// not undo the newer ones) and the delete again with a later time (a Router that re-decided
    /// after a crash: the first copy is the one of record).
    /// </summary>
    private async Task WorkloadAsync(string chat)
    {
        var t = Events.Epoch;
        var secretPayloads = new Dictionary<string, string> { ["alice/phone"] = "c2VjcmV0LWE=", ["bob/phone"] = "c2VjcmV0LWI=" };
        ChatEvent[] log =
        [
            Events.Created(chat, ["alice", "bob", "carol"]),
            Events.Message(chat, 2, "alice"),
            Events.Message(chat, 3, "bob"),
            Events.Message(chat, 4, "carol") with { Body = "", Payloads = secretPayloads, Attachments = [new Contracts.Commands.Attachment("m/carol/k", "image/png", 3, "secret.png")] },
            Events.Message(chat, 5, "bob") with { ReplyTo = $"m-{chat}-2" },
            Edit(chat, 6, 2, "alice", "first edit"),
            Edit(chat, 7, 2, "alice", "second edit"),
            Reaction(chat, 8, 3, "bob", "👍"),
            Reaction(chat, 9, 3, "carol", "😮"),
            Reaction(chat, 10, 3, "bob", "👎"),
            Reaction(chat, 11, 3, "carol", null),
            Edit(chat, 12, 4, "carol", "") with { Payloads = new Dictionary<string, string> { ["alice/phone"] = "c2VjcmV0LWEy", ["bob/phone"] = "c2VjcmV0LWIy" } },
            Reaction(chat, 13, 4, "alice", "🔥"),
            Deleted(chat, 14, 4, t.AddMilliseconds(14)),
            Reaction(chat, 15, 3, "bob", "❤️"),
            Reaction(chat, 10, 3, "bob", "👎"),
            Edit(chat, 6, 2, "alice", "first edit"),
            Deleted(chat, 14, 4, t.AddMilliseconds(500)),
        ];

        foreach (var e in log)
        {
            await _ctx.ProduceAsync(e);
            _events++;
        }
    }

    internal static MessageDeleted Deleted(string chat, long seq, long target, DateTimeOffset at) => new()
    {
        ChatId = chat,
        Seq = seq,
        Actor = Events.Actor("carol"),
        OccurredAt = at,
        MessageId = $"m-{chat}-{target}",
        MessageSeq = target,
    };

    internal static MessageEdited Edit(string chat, long seq, long target, string user, string body) => new()
    {
        ChatId = chat,
        Seq = seq,
        Actor = Events.Actor(user),
        OccurredAt = Events.Epoch.AddMilliseconds(seq),
        MessageId = $"m-{chat}-{target}",
        MessageSeq = target,
        Body = body,
    };

    internal static ReactionChanged Reaction(string chat, long seq, long target, string user, string? emoji) => new()
    {
        ChatId = chat,
        Seq = seq,
        Actor = Events.Actor(user),
        OccurredAt = Events.Epoch.AddMilliseconds(seq),
        MessageId = $"m-{chat}-{target}",
        MessageSeq = target,
        Emoji = emoji,
    };
}
