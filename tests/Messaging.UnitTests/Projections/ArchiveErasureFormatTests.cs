using Messaging.Contracts;
using Messaging.Contracts.Commands;
using Messaging.Contracts.Events;
using Messaging.Contracts.Serialization;
using Messaging.Projections.Archive;
using Messaging.Projections.Runtime;

namespace Messaging.UnitTests.Projections;

/// <summary>The pure parts of erasing deleted messages from files already written: revisions, the manifest's choice among them, the chat index, the rewritten rows.</summary>
public sealed class ArchiveErasureFormatTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 25, 13, 10, 0, TimeSpan.Zero);
    private static readonly DateTime Hour13 = new(2026, 11, 25, 13, 0, 0, DateTimeKind.Utc);

    [Fact]
    public void A_revision_has_its_own_key_and_entry_which_read_back_to_the_same_file_and_list_after_its_predecessor()
    {
        var file = ArchiveKeys.File("p", Hour13, 3, 120, 4711);
        var next = ArchiveKeys.Next("p", file);

        next.Should().Be(file with { Key = "p/date=2026-11-25/hour=13/part-3-120-4711.r1.parquet", Revision = 1 });
        var entry = ArchiveKeys.Entry("p", next);
        entry.Should().Be("p/_manifest/partition=3/00000000000000000120-00000000000000004711_2026-11-25_13_r000001");
        ArchiveKeys.ParseEntry("p", entry).Should().Be(next);
        string.CompareOrdinal(ArchiveKeys.Entry("p", file), entry).Should().BeNegative();
        string.CompareOrdinal(entry, ArchiveKeys.Entry("p", ArchiveKeys.File("p", Hour13, 3, 4712, 4800))).Should().BeNegative("a revision lists before the next file");
        ArchiveKeys.ParseEntry("p", entry[..^6] + "000000").Should().BeNull("revision 0 has no suffix");
        ArchiveKeys.ParseEntry("p", entry[..^1] + "x").Should().BeNull();
    }

    [Fact]
    public void Of_several_entries_over_the_same_offsets_the_highest_revision_counts_and_the_others_are_superseded()
    {
        var a = ArchiveKeys.File("p", Hour13, 0, 0, 4);
        var a1 = ArchiveKeys.Next("p", a);
        var a2 = ArchiveKeys.Next("p", a1);
        var b = ArchiveKeys.File("p", Hour13, 0, 5, 9);

        var manifest = ArchiveManifest.FromEntries(0, [a, a1, a2, b]);

        manifest.Files.Should().Equal(a2, b);
        manifest.Superseded.Should().Equal(a, a1);
        manifest.NextOffset.Should().Be(10);
        ArchiveManifest.FromEntries(0, [a, b]).Superseded.Should().BeEmpty();
    }

    [Fact]
    public void The_manifest_takes_a_revision_only_over_an_older_file_of_the_same_offsets()
    {
        var a = ArchiveKeys.File("p", Hour13, 0, 0, 4);
        var manifest = new ArchiveManifest { Partition = 0 }.Record(a).Record(ArchiveKeys.File("p", Hour13, 0, 5, 9));

        manifest.Revise(ArchiveKeys.Next("p", a)).Files[0].Revision.Should().Be(1);
        manifest.Revise(ArchiveKeys.Next("p", a)).NextOffset.Should().Be(10);
        FluentActions.Invoking(() => manifest.Revise(ArchiveKeys.File("p", Hour13, 0, 0, 3, 1))).Should().Throw<InvalidOperationException>();
        FluentActions.Invoking(() => manifest.Revise(a)).Should().Throw<InvalidOperationException>("not a later revision");
    }

    [Fact]
    public void The_chat_index_covers_each_chats_seqs_and_edit_targets_and_reads_back_from_its_entry()
    {
        var rows = new[]
        {
            new ArchiveRow { ChatId = "c", Seq = 7 },
            new ArchiveRow { ChatId = "c", Seq = 12, MessageSeq = 3 },
            new ArchiveRow { ChatId = "d", Seq = 1 },
            new ArchiveRow { Offset = 9 },
        };

        var index = ArchiveIndex.Of(rows);
        var back = ArchiveIndex.Parse(index.Format("p/date=2026-11-25/hour=13/part-0-0-3.parquet"));

        foreach (var i in new[] { index, back! })
        {
            i.Count.Should().Be(2);
            i.MayHold("c", 3).Should().BeTrue("an edit of seq 3");
            i.MayHold("c", 12).Should().BeTrue();
            i.MayHold("c", 2).Should().BeFalse();
            i.MayHold("c", 13).Should().BeFalse();
            i.MayHold("d", 1).Should().BeTrue();
            i.HasChat("e").Should().BeFalse();
        }

        ArchiveIndex.Parse("p/date=2026-11-25/hour=13/part-0-0-3.parquet").Should().BeNull("an entry written before indexes holds the key alone");
    }

    [Fact]
    public void Rewriting_a_file_for_a_later_delete_tombstones_the_message_and_its_edits_and_keeps_everything_else_byte_for_byte()
    {
        var secret = new MessageSent { ChatId = "c", Seq = 2, Actor = new DeviceRef("bo", "phone"), OccurredAt = T0, MessageId = "m2", ClientMsgId = "k2", Body = "secret", Attachments = [new Attachment("m/bo/k", "image/png", 3)] };
        var kept = new MessageSent { ChatId = "c", Seq = 3, Actor = new DeviceRef("ana", "phone"), OccurredAt = T0, MessageId = "m3", ClientMsgId = "k3", Body = "kept" };
        var edit = new MessageEdited { ChatId = "c", Seq = 4, Actor = new DeviceRef("bo", "phone"), OccurredAt = T0, MessageId = "m2", MessageSeq = 2, Body = "secret too" };
        ChatEvent[] events = [secret, kept, edit];
        var records = events.Select((e, i) => new SourceRecord("chat.events", 0, i, "c", Codecs.Events.Encode(e))).ToList();
        var decoded = records.Select(r => ArchiveFile.Decode(r.Value)).ToList();

        var rows = ArchiveFile.Rows(records, decoded, new HashSet<(string, long)> { ("c", 2) });

        rows[0].Should().BeEquivalentTo(new { Deleted = true, Body = (string?)null, Attachments = (string?)null, MessageId = "m2" });
        ((MessageSent)Codecs.Events.Decode(rows[0].Value).Value!).Should().Be(secret with { Body = "", Attachments = null });
        rows[1].Value.Should().Equal(records[1].Value);
        rows[2].Should().BeEquivalentTo(new { Deleted = true, Body = (string?)null, MessageSeq = 2L });
        var again = ArchiveFile.Rows(rows.Select(r => ArchiveFile.ToRecord(r, "chat.events")).ToList(), rows.Select(r => ArchiveFile.Decode(r.Value)).ToList(), new HashSet<(string, long)> { ("c", 2) });
        again.Should().BeEquivalentTo(rows, "erasing again changes nothing");
    }

    [Fact]
    public void The_messages_to_erase_are_the_targets_of_the_deletes_in_a_file()
    {
        var delete = new MessageDeleted { ChatId = "c", Seq = 9, Actor = new DeviceRef("ana", "phone"), OccurredAt = T0, MessageId = "m2", MessageSeq = 2 };
        var other = new MessageDeleted { ChatId = "d", Seq = 4, Actor = new DeviceRef("ana", "phone"), OccurredAt = T0, MessageId = "m1", MessageSeq = 1 };

        ArchiveEraser.Targets([delete, null, other, delete]).Should().BeEquivalentTo(new HashSet<(string, long)> { ("c", 2), ("d", 1) });
        ArchiveEraser.Targets([null]).Should().BeEmpty();
    }
}
