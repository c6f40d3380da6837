using System.Text;
using Confluent.Kafka;
using Messaging.Contracts.Commands;
using Messaging.Contracts.Events;
using Messaging.Contracts.Serialization;
using Messaging.Projections.Archive;

namespace Messaging.IntegrationTests.Projections;

/// <summary>
/// A message deleted after its archive file was written (issue 13): its text, attachments and
/// edits leave that file (a new revision replaces it, the old file is deleted from S3), the
/// manifest still records each offset once, and a per-chat rebuild reading the archive then
/// Kafka reproduces the live rows.
/// </summary>
public sealed class ArchiveErasureTests : IAsyncLifetime
{
    private const string Secret = "erase me please";

    private ProjectionsTestContext _ctx = null!;
    private ArchiveStore _store = null!;
    private int _events;

    public async Task InitializeAsync()
    {
        _ctx = await ArchiveTests.ArchivingContextAsync("chat");
        _store = ArchiveTests.Store(_ctx.Settings);
        await _store.EnsureBucketAsync(CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        _store.Dispose();
        await _ctx.DisposeAsync();
    }

    [Fact]
    public async Task A_message_deleted_after_its_file_was_written_leaves_no_text_in_the_archive_and_a_per_chat_rebuild_from_the_archive_restores_the_live_rows()
    {
        var t = Events.Epoch;
        var first = await ProduceAsync(Events.Created("era", ["alice", "bob"]));
        await ProduceAsync(Events.Message("era", 2, "alice") with { Body = Secret, Attachments = [new Attachment("m/alice/k", "image/png", 3, "secret.png")] });
        await ProduceAsync(MessageContentProjectionTests.Edit("era", 3, 2, "alice", Secret + " (edited)"));
        await ProduceAsync(Events.Message("era", 4, "bob") with { Body = "kept" });
        var partition = first.Partition.Value;

        var host = await _ctx.StartAsync();
        var before = (await WaitForArchiveAsync())[partition];
        var written = before.Files.Single(f => f.FirstOffset <= first.Offset.Value && first.Offset.Value <= f.LastOffset);
        written.Revision.Should().Be(0);
        (await RowsAsync(written)).Should().Contain(r => r.Body == Secret, "the message is archived with its text before the delete");

        await ProduceAsync(MessageContentProjectionTests.Deleted("era", 5, 2, t.AddSeconds(5)));
        var after = (await WaitForArchiveAsync())[partition];

        var revised = after.Files.Single(f => f.FirstOffset == written.FirstOffset);
        revised.Should().Be(ArchiveKeys.Next(_store.Prefix, written), "the same offsets, the next revision under a new key");
        after.Superseded.Should().BeEmpty();
        after.Files.Sum(f => f.Records).Should().Be(_events, "every offset recorded once");
        var keys = await _store.ListKeysAsync(CancellationToken.None);
        keys.Should().NotContain(written.Key, "the file with the text is deleted from S3");
        keys.Should().NotContain(ArchiveKeys.Entry(_store.Prefix, written));
        var rows = await RowsAsync(revised);
        rows.Select(r => r.Offset).Should().Equal(Offsets(written));
        var message = rows.Single(r => r is { ChatId: "era", Seq: 2 });
        message.Should().BeEquivalentTo(new { Deleted = true, Body = (string?)null, Attachments = (string?)null });
        ((MessageSent)Codecs.Events.Decode(message.Value).Value!).Body.Should().BeEmpty();
        rows.Single(r => r is { ChatId: "era", Seq: 3 }).Should().BeEquivalentTo(new { Deleted = true, Body = (string?)null }, "an edit of the deleted message goes too");
        rows.Single(r => r is { ChatId: "era", Seq: 4 }).Body.Should().Be("kept");
        foreach (var key in keys)
        {
            await using var stream = await _store.GetFileAsync(key, CancellationToken.None);
            Encoding.UTF8.GetString(stream.ToArray()).Should().NotContain(Secret, $"{key}: nothing on S3 holds the text");
            if (key.EndsWith(".parquet", StringComparison.Ordinal))
            {
                stream.Position = 0;
                (await ArchiveFile.DecodeAsync(stream, CancellationToken.None)).Should().NotContain(r => r.Body != null && r.Body.Contains(Secret) || (r.Value != null && Encoding.UTF8.GetString(r.Value).Contains(Secret)), key);
            }
        }

        // A file of another chat only: the per-chat rebuild does not read it.
        await ProduceAsync(Events.Created("other", ["carol"]));
        await ProduceAsync(Events.Message("other", 2, "carol"));
        await WaitForArchiveAsync();
        await _ctx.WaitForAsync("select coalesce(sum(next_offset), 0) from checkpoints where projection = 'chat'", _events, "chat projection at the end of the log", 90);
        await _ctx.StopAsync(host);
        var live = await DumpAsync();
        // Damage the chat's rows; only a rebuild that reads the whole chat restores them.
        await _ctx.ExecAsync("delete from messages where chat_id = 'era'; delete from chat_members where chat_id = 'era'; update chats set title = 'broken' where chat_id = 'era'");

        var (code, output) = await _ctx.CliAsync("rebuild", "--projection", "chat", "--chat", "era", "--from-archive");

        code.Should().Be(0, output);
        output.Should().Contain("reading the events of chat era from the archive").And.Contain("chat era rebuilt from 5 events");
        output.Should().Contain("reading 2 of 3 archive files", "the files of the message and of its delete; the other chat's file is skipped by its entry's chat index");
        var rebuilt = await DumpAsync();
        foreach (var (table, expected) in live)
        {
            rebuilt[table].Should().Equal(expected, $"{table} after a per-chat rebuild from the erased archive and Kafka");
        }
    }

    [Fact]
    public async Task A_revision_recorded_before_a_crash_deleted_its_predecessor_replaces_it_and_the_next_owner_deletes_the_old_file()
    {
        await ProduceAsync(Events.Created("crash", ["alice"]));
        await ProduceAsync(Events.Message("crash", 2, "alice"));
        var host = await _ctx.StartAsync();
        var manifest = (await WaitForArchiveAsync()).Values.Single();
        await _ctx.StopAsync(host);
        var old = manifest.Files.Single();

        // What an erasure leaves when it stops after recording the revision.
        var next = ArchiveKeys.Next(_store.Prefix, old);
        await using (var stream = await _store.GetFileAsync(old.Key, CancellationToken.None))
        {
            await _store.PutFileAsync(next.Key, stream.ToArray(), CancellationToken.None);
            stream.Position = 0;
            await _store.RecordAsync(next, ArchiveIndex.Of(await ArchiveFile.DecodeAsync(stream, CancellationToken.None)), CancellationToken.None);
        }

        var both = await _store.LoadManifestAsync(old.Partition, CancellationToken.None);
        both.Files.Should().Equal([next], "the highest revision counts");
        both.Superseded.Should().Equal([old]);

        await ProduceAsync(Events.Message("crash", 3, "alice"));
        await _ctx.StartAsync();
        var resumed = (await WaitForArchiveAsync())[old.Partition];

        resumed.Files[0].Should().Be(next);
        resumed.Superseded.Should().BeEmpty();
        var keys = await _store.ListKeysAsync(CancellationToken.None);
        keys.Should().NotContain(old.Key).And.NotContain(ArchiveKeys.Entry(_store.Prefix, old));
        (await RowsAsync(resumed.Files[^1])).Select(r => r.Seq).Should().Equal([3L], "the archive resumes after the revised file");
    }

    private async Task<DeliveryResult<string, byte[]>> ProduceAsync(ChatEvent e)
    {
        _events++;
        return await _ctx.ProduceAsync(e);
    }

    private Task<SortedDictionary<int, ArchiveManifest>> WaitForArchiveAsync() => ArchiveTests.WaitForArchiveAsync(_store, _events);

    private async Task<IList<ArchiveRow>> RowsAsync(ArchivedFile file)
    {
        await using var stream = await _store.GetFileAsync(file.Key, CancellationToken.None);
        return await ArchiveFile.DecodeAsync(stream, CancellationToken.None);
    }

    private static IEnumerable<long> Offsets(ArchivedFile file)
    {
        for (var o = file.FirstOffset; o <= file.LastOffset; o++)
        {
            yield return o;
        }
    }

    private Task<Dictionary<string, List<string>>> DumpAsync() => ArchiveTests.DumpAsync(_ctx);
}
