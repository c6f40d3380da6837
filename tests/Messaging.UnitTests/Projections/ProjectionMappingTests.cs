using System.Text;
using Messaging.Contracts;
using Messaging.Contracts.Commands;
using Messaging.Contracts.Devices;
using Messaging.Contracts.Events;
using Messaging.Contracts.Serialization;
using Messaging.Contracts.Topics;
using Messaging.Projections.Chats;
using Messaging.Projections.Inbox;
using Messaging.Projections.Presence;
using Messaging.Projections.Runtime;
using Messaging.ReadModels.Checkpoints;

namespace Messaging.UnitTests.Projections;

public sealed class ProjectionMappingTests
{
    private static readonly DateTimeOffset T0 = new(2025, 1, 2, 3, 4, 5, TimeSpan.Zero);
    private static readonly TopicNames Names = new("x.");

    [Fact]
    public void A_chat_event_advances_no_cursor_and_writes_nothing_to_the_inbox_whatever_its_group()
    {
        // Issue 10: the inbox wrote one row per recipient device, 2,048 per message in a group of
        // 1,024 members with 2 devices each; pending events now follow from history and cursors.
        var page = CursorPage.Plan([Apply(Message("c1", 7)), Apply(Message("c1", 8))]);

        page.Count.Should().Be(0);
    }

    [Fact]
    public void The_inbox_projection_reads_only_acks_never_chat_events()
    {
        var projection = new InboxProjection();

        projection.Topics(Names).Should().Equal(Names.DeviceAcks);
        projection.Tables.Select(t => t.Name).Should().Equal("device_cursors");
    }

    [Fact]
    public void Acks_for_one_device_and_chat_collapse_to_the_highest_seq()
    {
        var page = CursorPage.Plan([Apply(Ack("u", "d1", "c1", 5)), Apply(Ack("u", "d1", "c1", 9)), Apply(Ack("u", "d1", "c1", 3)), Apply(Ack("u", "d2", "c1", 1))]);

        page.Users.Should().Equal("u", "u");
        page.Devices.Should().Equal("d1", "d2");
        page.Chats.Should().Equal("c1", "c1");
        page.Seqs.Should().Equal(9L, 1L);
    }

    [Fact]
    public void Acks_of_two_users_with_the_same_device_id_are_two_cursors_in_key_order()
    {
        var page = CursorPage.Plan([Apply(Ack("bo", "phone", "c1", 2)), Apply(Ack("ana", "phone", "c1", 9)), Apply(Ack("bo", "phone", "c1", 4))]);

        page.Users.Should().Equal("ana", "bo");
        page.Devices.Should().Equal("phone", "phone");
        page.Seqs.Should().Equal(9L, 4L);
    }

    [Fact]
    public void Acks_in_a_batch_and_in_single_records_collapse_together_to_the_highest_seq_per_cursor()
    {
        var batch = new DeliveriesAcked { Acks = [BatchAck("u", "d1", "c1", 7), BatchAck("bo", "phone", "c1", 3), BatchAck("u", "d1", "c1", 4)] };

        var page = CursorPage.Plan([Apply(Ack("u", "d1", "c1", 5)), Apply(batch), Apply(Ack("bo", "phone", "c1", 6))]);

        page.Users.Should().Equal("bo", "u");
        page.Devices.Should().Equal("phone", "d1");
        page.Chats.Should().Equal("c1", "c1");
        page.Seqs.Should().Equal(6L, 7L);
    }

    [Fact]
    public void The_inbox_projection_applies_ack_batches_and_single_acks_and_skips_other_device_records()
    {
        var projection = new InboxProjection();
        var batch = new DeliveriesAcked { Acks = [BatchAck("u", "d1", "c1", 7)] };
        var session = new DeviceSessionChanged { DeviceId = "d1", UserId = "u", Node = 0, SessionId = "s", ChangedAt = T0 };

        Decide(projection, batch).Disposition.Should().Be(Disposition.Apply);
        Decide(projection, Ack("u", "d1", "c1", 7)).Disposition.Should().Be(Disposition.Apply);
        Decide(projection, session).Disposition.Should().Be(Disposition.Skip);
    }

    [Fact]
    public void Message_history_rows_carry_the_wire_fields()
    {
        var e = Message("c1", 4) with { Attachments = [new Attachment("k/1", "image/png", 42, null)] };

        var row = ChatRows.Message(e);

        row.Kind.Should().Be("message");
        row.MessageId.Should().Be("m4");
        row.SenderDeviceId.Should().Be("alice-phone");
        row.AttachmentsJson.Should().Be("""[{"key":"k/1","contentType":"image/png","size":42}]""");
        row.UserIds.Should().BeNull();
    }

    [Fact]
    public void Membership_events_become_history_rows_naming_the_users()
    {
        ChatRows.Message(new MemberLeft { ChatId = "c", Seq = 3, Actor = new("u", "d"), OccurredAt = T0, UserId = "carol", PromotedAdmin = "bob" })
            .Should().Match<MessageRow>(r => r.Kind == "member.left" && r.UserIds!.SequenceEqual(new[] { "carol", "bob" }));
        ChatRows.Message(new ChatCreated { ChatId = "c", Seq = 1, Actor = new("u", "d"), OccurredAt = T0, Kind = ChatKind.Direct, Title = "t", Members = [new("a", MemberRole.Admin), new("b", MemberRole.Member)] })
            .Should().Match<MessageRow>(r => r.Kind == "created" && r.Title == "t" && r.UserIds!.Length == 2);
    }

    [Fact]
    public void Chat_bumps_keep_the_highest_seq_per_chat_of_a_page()
    {
        var bumps = ChatRows.Bumps([Message("b", 2), Message("a", 5), Message("b", 4), Message("a", 3)]);

        bumps.Select(b => (b.ChatId, b.Seq)).Should().Equal(("a", 5L), ("b", 4L));
    }

    [Fact]
    public void The_latest_session_change_per_device_wins_and_a_tie_goes_to_the_later_record()
    {
        var latest = PresenceRows.Latest([Session("d1", 1, T0), Session("d1", null, T0.AddSeconds(1)), Session("d2", 2, T0), Session("d2", 3, T0), Session("d1", 4, T0.AddSeconds(-1))]);

        latest.Select(s => (s.DeviceId, s.Node)).Should().Equal(("d1", (int?)null), ("d2", 3));
    }

    [Fact]
    public void The_latest_lease_per_node_wins_and_a_tie_goes_to_the_later_record()
    {
        static EdgeNodeLeased Lease(int node, string run, DateTimeOffset at) => new() { Node = node, Incarnation = run, RenewedAt = at, LeaseUntil = at.AddSeconds(30) };

        var latest = PresenceRows.LatestLeases([Lease(1, "a", T0.AddSeconds(10)), Lease(0, "x", T0), Lease(1, "b", T0.AddSeconds(20)), Lease(1, "c", T0.AddSeconds(5)), Lease(0, "y", T0)]);

        latest.Select(l => (l.Node, l.Incarnation)).Should().Equal((0, "y"), (1, "b"));
    }

    [Fact]
    public void Sessions_of_two_users_with_the_same_device_id_are_two_presence_rows()
    {
        var latest = PresenceRows.Latest([Session("phone", 1, T0, user: "bo"), Session("phone", 2, T0, user: "ana"), Session("phone", null, T0.AddSeconds(1), user: "bo")]);

        latest.Select(s => (s.UserId, s.DeviceId, s.Node)).Should().Equal(("ana", "phone", (int?)2), ("bo", "phone", null));
    }

    [Fact]
    public void A_page_parks_bad_records_skips_unknown_types_and_ends_each_partition_past_its_last_offset()
    {
        var topic = Names.ChatEvents;
        SourceRecord[] records =
        [
            new(topic, 0, 10, "c", Codecs.Events.Encode(Message("c", 1))),
            new(topic, 0, 11, "c", Encoding.UTF8.GetBytes("{oops")),
            new(topic, 1, 4, "e", Encoding.UTF8.GetBytes("""{"type":"ChatArchived","chatId":"e"}""")),
            new(topic, 1, 5, "e", Encoding.UTF8.GetBytes("""{"type":"MessageSent","v":3,"chatId":"e"}""")),
            new(topic, 0, 12, "c", null),
        ];

        var page = Page.Plan(new ChatProjection(), records, Names);

        page.Apply.Should().ContainSingle();
        page.Dead.Select(d => d.Source.Offset).Should().Equal(11L, 5L);
        page.Skipped.Should().Be(2);
        page.NextOffsets.Should().BeEquivalentTo(new Dictionary<PartitionKey, long> { [new(topic, 0)] = 13, [new(topic, 1)] = 6 });
        page.Without(new HashSet<PartitionKey> { new(topic, 0) }).NextOffsets.Keys.Should().Equal(new PartitionKey(topic, 1));
    }

    [Fact]
    public void The_inbox_projection_ignores_device_records_that_are_not_acks()
    {
        var record = new SourceRecord(Names.DeviceAcks, 0, 0, "u", Codecs.Devices.Encode(new UserDevicesChanged { UserId = "u", DeviceIds = ["d"], ChangedAt = T0 }));

        new InboxProjection().Decode(record, Names).Disposition.Should().Be(Disposition.Skip);
    }

    [Theory]
    [InlineData("22021", true)]
    [InlineData("23505", true)]
    [InlineData("54000", true)]
    [InlineData("40001", false)]
    [InlineData("40P01", false)]
    [InlineData("42P01", false)]
    [InlineData("08006", false)]
    [InlineData(null, false)]
    public void Only_data_errors_are_blamed_on_the_record(string? sqlState, bool recordsFault) =>
        (FailureClassifier.Classify(sqlState) == FailureKind.Record).Should().Be(recordsFault);

    private static ApplyRecord Apply(object value) => new(new SourceRecord("t", 0, 0, null, null), value);

    private static MessageSent Message(string chat, long seq) => new()
    {
        ChatId = chat,
        Seq = seq,
        Actor = new DeviceRef("alice", "alice-phone"),
        OccurredAt = T0,
        MessageId = "m" + seq,
        ClientMsgId = "c" + seq,
        Body = "hi",
    };

    private static Decision Decide(InboxProjection projection, DeviceRecord record) =>
        projection.Decode(new SourceRecord(Names.DeviceAcks, 0, 0, "u/d1", Codecs.Devices.Encode(record)), Names);

    private static DeviceAck BatchAck(string user, string device, string chat, long seq) => new() { DeviceId = device, UserId = user, ChatId = chat, Seq = seq, AckedAt = T0 };

    private static DeliveryAcked Ack(string user, string device, string chat, long seq) => new() { DeviceId = device, UserId = user, ChatId = chat, Seq = seq, AckedAt = T0 };

    private static DeviceSessionChanged Session(string device, int? node, DateTimeOffset at, string user = "u") => new() { DeviceId = device, UserId = user, Node = node, SessionId = "s", ChangedAt = at };
}
