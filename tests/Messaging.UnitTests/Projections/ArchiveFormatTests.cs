using Messaging.Contracts;
using Messaging.Contracts.Commands;
using Messaging.Contracts.Events;
using Messaging.Contracts.Serialization;
using Messaging.Projections.Archive;
using Messaging.Projections.Runtime;
using Messaging.ReadModels.Checkpoints;

namespace Messaging.UnitTests.Projections;

/// <summary>The archive's pure parts: names, manifests, when a file closes, rows, and how far a rebuild reaches back.</summary>
public sealed class ArchiveFormatTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 25, 13, 59, 58, TimeSpan.Zero);
    private static readonly DateTime Hour13 = new(2026, 11, 25, 13, 0, 0, DateTimeKind.Utc);

    private static readonly ArchiveOptions Limits = new() { MaxRecordsPerFile = 3, MaxBytesPerFile = 1024, MaxFileAgeSeconds = 10 };

    [Fact]
    public void A_file_is_named_by_its_hour_partition_and_offsets_and_its_manifest_entry_reads_back_to_the_same_file()
    {
        var file = ArchiveKeys.File("chat-events/v1", Hour13, 3, 120, 4711);

        file.Key.Should().Be("chat-events/v1/date=2026-11-25/hour=13/part-3-120-4711.parquet");
        var entry = ArchiveKeys.Entry("chat-events/v1", file);
        entry.Should().Be("chat-events/v1/_manifest/partition=3/00000000000000000120-00000000000000004711_2026-11-25_13");
        ArchiveKeys.ParseEntry("chat-events/v1", entry).Should().Be(file);
        file.Records.Should().Be(4592);
    }

    [Theory]
    [InlineData("chat-events/v1/_manifest/partition=3/pending")]
    [InlineData("chat-events/v1/_manifest/partition=x/00000000000000000120-00000000000000004711_2026-11-25_13")]
    [InlineData("chat-events/v1/_manifest/partition=3/0000000000000000012-00000000000000004711_2026-11-25_13")]
    [InlineData("other/_manifest/partition=3/00000000000000000120-00000000000000004711_2026-11-25_13")]
    public void Keys_that_are_not_manifest_entries_are_not_read_as_files(string key) =>
        ArchiveKeys.ParseEntry("chat-events/v1", key).Should().BeNull();

    [Fact]
    public void Entries_sort_in_offset_order_as_s3_lists_keys()
    {
        var small = ArchiveKeys.Entry("p", ArchiveKeys.File("p", Hour13, 0, 9, 9));
        var large = ArchiveKeys.Entry("p", ArchiveKeys.File("p", Hour13, 0, 10, 10));

        string.CompareOrdinal(small, large).Should().BeNegative();
    }

    [Fact]
    public void The_manifest_records_only_a_file_that_starts_where_the_archive_ends()
    {
        var manifest = new ArchiveManifest { Partition = 0 }.Record(ArchiveKeys.File("p", Hour13, 0, 0, 4));

        manifest.NextOffset.Should().Be(5);
        manifest.Record(ArchiveKeys.File("p", Hour13, 0, 5, 9)).NextOffset.Should().Be(10);
        FluentActions.Invoking(() => manifest.Record(ArchiveKeys.File("p", Hour13, 0, 6, 9))).Should().Throw<InvalidOperationException>().WithMessage("*gap*");
        FluentActions.Invoking(() => manifest.Record(ArchiveKeys.File("p", Hour13, 0, 3, 9))).Should().Throw<InvalidOperationException>();
    }

    [Fact]
    public void A_file_closes_before_a_later_hour_after_it_is_full_and_when_it_is_old()
    {
        ArchiveCut.CloseBefore(2, Hour13, Hour13.AddHours(1)).Should().BeTrue();
        ArchiveCut.CloseBefore(2, Hour13, Hour13).Should().BeFalse();
        ArchiveCut.CloseBefore(2, Hour13, Hour13.AddHours(-1)).Should().BeFalse("an earlier hour (another Router's clock) stays in the open file");
        ArchiveCut.CloseBefore(0, Hour13, Hour13.AddHours(1)).Should().BeFalse("nothing to close");

        ArchiveCut.CloseAfter(3, 10, Limits).Should().BeTrue();
        ArchiveCut.CloseAfter(2, 1024, Limits).Should().BeTrue();
        ArchiveCut.CloseAfter(2, 1023, Limits).Should().BeFalse();

        ArchiveCut.Expired(1, 1_000, 11_000, Limits).Should().BeTrue();
        ArchiveCut.Expired(1, 1_000, 10_999, Limits).Should().BeFalse();
        ArchiveCut.Expired(0, 1_000, 99_000, Limits).Should().BeFalse();
    }

    [Fact]
    public async Task Rows_carry_every_envelope_field_and_a_message_deleted_in_the_same_file_loses_its_content()
    {
        var created = new ChatCreated { ChatId = "c", Seq = 1, Actor = new DeviceRef("ana", "phone"), OccurredAt = T0, Kind = ChatKind.Group, Title = "t", Members = [new("ana", MemberRole.Admin), new("bo", MemberRole.Member)] };
        var secret = new MessageSent
        {
            ChatId = "c",
            Seq = 2,
            Actor = new DeviceRef("bo", "phone"),
            OccurredAt = T0.AddSeconds(1),
            MessageId = "m2",
            ClientMsgId = "k2",
            Body = "",
            Attachments = [new Attachment("m/bo/k", "image/png", 3)],
            Payloads = new Dictionary<string, string> { ["ana/phone"] = "c2VjcmV0" },
        };
        var kept = new MessageSent { ChatId = "c", Seq = 3, Actor = new DeviceRef("ana", "phone"), OccurredAt = T0.AddSeconds(2), MessageId = "m3", ClientMsgId = "k3", Body = "kept", ReplyTo = "m2" };
        var edit = new MessageEdited { ChatId = "c", Seq = 4, Actor = new DeviceRef("bo", "phone"), OccurredAt = T0.AddSeconds(3), MessageId = "m2", MessageSeq = 2, Body = "secret too" };
        var delete = new MessageDeleted { ChatId = "c", Seq = 5, Actor = new DeviceRef("ana", "phone"), OccurredAt = T0.AddSeconds(4), MessageId = "m2", MessageSeq = 2 };
        var read = new MessagesRead { ChatId = "c", Seq = 3, Actor = new DeviceRef("bo", "tablet"), OccurredAt = T0.AddSeconds(5) };
        ChatEvent[] events = [created, secret, kept, edit, delete, read];
        var records = new List<SourceRecord>();
        for (var i = 0; i < events.Length; i++)
        {
            records.Add(new SourceRecord("chat.events", 4, 100 + i, "c", Codecs.Events.Encode(events[i])));
        }

        records.Add(new SourceRecord("chat.events", 4, 106, "c", "{not json"u8.ToArray()));
        var decoded = records.Select(r => ArchiveFile.Decode(r.Value)).ToList();

        var rows = ArchiveFile.Rows(records, decoded);
        var back = await ArchiveFile.DecodeAsync(new MemoryStream(await ArchiveFile.EncodeAsync(rows, CancellationToken.None)), CancellationToken.None);

        back.Should().BeEquivalentTo(rows, "Parquet round trip");
        back.Select(r => r.Offset).Should().Equal(100L, 101, 102, 103, 104, 105, 106);
        back.Select(r => r.Type).Should().Equal("ChatCreated", "MessageSent", "MessageSent", "MessageEdited", "MessageDeleted", "MessagesRead", null);
        back[0].Should().BeEquivalentTo(new { Partition = 4, Key = "c", V = 3, ChatId = "c", Seq = 1L, ActorUserId = "ana", ActorDeviceId = "phone", ChatKind = "Group", Title = "t", MemberCount = 2 });
        back[0].OccurredAt.Should().Be(T0.UtcDateTime);
        back[0].Members.Should().Contain("\"bo\"");
        back[1].Should().BeEquivalentTo(new { Deleted = true, Body = (string?)null, Attachments = (string?)null, PayloadDevices = (int?)null, MessageId = "m2" });
        var stripped = (MessageSent)Codecs.Events.Decode(back[1].Value).Value!;
        stripped.Should().Be(secret with { Attachments = null, Payloads = null }, "the record kept for replay is the message without its content");
        back[2].Should().BeEquivalentTo(new { Deleted = false, Body = "kept", ReplyTo = "m2" });
        back[2].Value.Should().Equal(records[2].Value, "a record not deleted is archived byte for byte");
        back[3].Should().BeEquivalentTo(new { Deleted = true, Body = (string?)null, MessageSeq = 2L });
        ((MessageEdited)Codecs.Events.Decode(back[3].Value).Value!).Body.Should().BeEmpty();
        back[5].ActorDeviceId.Should().Be("tablet");
        back[6].Value.Should().Equal(records[6].Value, "an undecodable record is archived as it is; a rebuild parks it as the live path did");
    }

    [Fact]
    public void A_rebuild_from_the_archive_starts_at_the_archives_first_offset_and_refuses_a_hole_between_archive_and_kafka()
    {
        var archive = new Dictionary<int, ArchiveManifest>
        {
            [0] = new ArchiveManifest { Partition = 0 }.Record(ArchiveKeys.File("p", Hour13, 0, 0, 99)),
            [1] = new ArchiveManifest { Partition = 1 }.Record(ArchiveKeys.File("p", Hour13, 1, 0, 9)),
        };
        (PartitionKey, long, long)[] kafka = [(new("chat.events", 0), 80, 150), (new("chat.events", 2), 0, 7), (new("other", 0), 5, 9)];

        ArchiveReader.Extend(kafka, "chat.events", archive).Should().Equal((new PartitionKey("chat.events", 0), 0L, 150L), (new PartitionKey("chat.events", 2), 0L, 7L), (new PartitionKey("other", 0), 5L, 9L));
        FluentActions.Invoking(() => ArchiveReader.Extend([(new("chat.events", 1), 11, 20)], "chat.events", archive))
            .Should().Throw<InvalidOperationException>().WithMessage("*offsets 10..10 are in neither*");
        ArchiveReader.Extend([(new("chat.events", 1), 10, 20)], "chat.events", archive).Should().Equal((new PartitionKey("chat.events", 1), 0L, 20L));
    }
}
