using System.Buffers.Binary;
using System.Text;
using Messaging.Contracts;
using Messaging.Contracts.Commands;
using Messaging.Contracts.Events;
using Messaging.Contracts.Serialization;
using Messaging.Contracts.Topics;
using Messaging.Projections.Chats;
using Messaging.Projections.Runtime;

namespace Messaging.UnitTests.Projections;

/// <summary>
/// The rebuild's fast path (<see cref="MessageCopyReader"/>) must write exactly the row the full
/// decoder would, and hand every record it does not recognise exactly to the full decoder.
/// </summary>
public sealed class MessageCopyReaderTests
{
    private static readonly DateTimeOffset T0 = new DateTimeOffset(2026, 11, 25, 22, 0, 0, TimeSpan.Zero).AddTicks(1_234_567);
    private static readonly TopicNames Names = new("x.");

    public static TheoryData<string> Bodies => new()
    {
        "hello 7",
        "",
        "she said \"hi\" \\ then left",
        "<b>tags</b> & 'quotes' + plus",
        "déjà vu, 日本語, emoji 😀",
        "line\nbreak\ttab",
        new string('x', 5000),
    };

    [Theory]
    [MemberData(nameof(Bodies))]
    public void A_message_is_encoded_to_the_same_copy_row_as_the_full_decoder_writes(string body)
    {
        var e = Message(body);
        var bytes = Codecs.Events.Encode(e);

        MessageCopyReader.TryRead(bytes, Codecs.Events.MaxVersion, out var row).Should().BeTrue();

        row!.Row.Should().Equal(FullPath(bytes));
        (row.ChatId, row.Seq, row.SentAt).Should().Be((e.ChatId, e.Seq, e.OccurredAt.UtcDateTime));
        row.RecordType.Should().Be("MessageSent");
    }

    [Fact]
    public void Property_order_and_whitespace_do_not_matter()
    {
        var json = """
            { "occurredAt": "2026-11-25T22:00:00.1234567+01:00", "body": "b", "actor": { "deviceId": "phone", "userId": "ana" },
              "seq": 42, "chatId": "c\u00e9", "clientMsgId": "k", "messageId": "m", "v": 3, "attachments": [], "type": "MessageSent" }
            """u8.ToArray();

        MessageCopyReader.TryRead(json, Codecs.Events.MaxVersion, out var row).Should().BeTrue();

        row!.Row.Should().Equal(FullPath(json));
        row.ChatId.Should().Be("cé");
    }

    [Fact]
    public void A_version_2_record_reads_like_version_3_without_its_recipient_list()
    {
        var json = """{"type":"MessageSent","v":2,"chatId":"c","seq":3,"actor":{"userId":"u","deviceId":"d"},"occurredAt":"2026-11-25T22:00:00Z","messageId":"m","clientMsgId":"k","body":"b","recipientDevices":[{"userId":"u","deviceId":"d"}]}"""u8.ToArray();

        MessageCopyReader.TryRead(json, Codecs.Events.MaxVersion, out var row).Should().BeTrue();

        row!.Row.Should().Equal(FullPath(json));
    }

    public static TheoryData<string> Fallbacks => new()
    {
        // Another event type, attachments (their column is the full path's canonical JSON).
        """{"type":"MemberRemoved","v":3,"chatId":"c","seq":3,"actor":{"userId":"u","deviceId":"d"},"occurredAt":"2026-11-25T22:00:00Z","userId":"x"}""",
        """{"type":"MessageSent","v":3,"chatId":"c","seq":3,"actor":{"userId":"u","deviceId":"d"},"occurredAt":"2026-11-25T22:00:00Z","messageId":"m","clientMsgId":"k","body":"b","attachments":[{"key":"a","contentType":"image/png","size":1}]}""",
        // Versions this build does not read.
        """{"type":"MessageSent","v":99,"chatId":"c","seq":3,"actor":{"userId":"u","deviceId":"d"},"occurredAt":"2026-11-25T22:00:00Z","messageId":"m","clientMsgId":"k","body":"b"}""",
        """{"type":"MessageSent","v":0,"chatId":"c","seq":3,"actor":{"userId":"u","deviceId":"d"},"occurredAt":"2026-11-25T22:00:00Z","messageId":"m","clientMsgId":"k","body":"b"}""",
        // A field this reader does not know (a newer producer's), also inside the actor.
        """{"type":"MessageSent","v":3,"chatId":"c","seq":3,"actor":{"userId":"u","deviceId":"d"},"occurredAt":"2026-11-25T22:00:00Z","messageId":"m","clientMsgId":"k","body":"b","replyTo":4}""",
        """{"type":"MessageSent","v":3,"chatId":"c","seq":3,"actor":{"userId":"u","deviceId":"d","x":1},"occurredAt":"2026-11-25T22:00:00Z","messageId":"m","clientMsgId":"k","body":"b"}""",
        // Missing, null, duplicated or mistyped values; malformed JSON.
        """{"type":"MessageSent","v":3,"chatId":"c","seq":3,"actor":{"userId":"u","deviceId":"d"},"occurredAt":"2026-11-25T22:00:00Z","messageId":"m","clientMsgId":"k"}""",
        """{"type":"MessageSent","v":3,"chatId":"c","seq":3,"actor":{"userId":"u","deviceId":"d"},"occurredAt":"2026-11-25T22:00:00Z","messageId":"m","clientMsgId":"k","body":null}""",
        """{"type":"MessageSent","v":3,"chatId":"c","seq":3,"actor":{"userId":"u","deviceId":"d"},"occurredAt":"2026-11-25T22:00:00Z","messageId":"m","clientMsgId":"k","body":"b","body":"c"}""",
        """{"type":"MessageSent","v":3,"chatId":"c","seq":"3","actor":{"userId":"u","deviceId":"d"},"occurredAt":"2026-11-25T22:00:00Z","messageId":"m","clientMsgId":"k","body":"b"}""",
        """{"type":"MessageSent","v":3,"chatId":"c","seq":3.5,"actor":{"userId":"u","deviceId":"d"},"occurredAt":"2026-11-25T22:00:00Z","messageId":"m","clientMsgId":"k","body":"b"}""",
        """{"type":"MessageSent","v":3,"chatId":"c","seq":3,"actor":{"userId":"u","deviceId":"d"},"occurredAt":"yesterday","messageId":"m","clientMsgId":"k","body":"b"}""",
        """{"type":"MessageSent","v":3,"chatId":"c","seq":3,"actor":{"userId":"u","deviceId":"d"},"occurredAt":"2026-11-25T22:00:00Z","messageId":"m","clientMsgId":"k","body":"b\ud800"}""",
        """{"type":"MessageSent","v":3,"chatId":"c","seq":3,"actor":{"userId":"u","deviceId":"d"},"occurredAt":"2026-11-25T22:00:00Z","messageId":"m","clientMsgId":"k","body":"b"} trailing""",
        """{"type":"MessageSent","v":3,"chatId":"c","seq":3""",
        """[1,2]""",
        """not json""",
    };

    [Theory]
    [MemberData(nameof(Fallbacks))]
    public void Anything_but_an_exactly_recognised_message_is_left_to_the_full_decoder(string json)
    {
        MessageCopyReader.TryRead(Encoding.UTF8.GetBytes(json), Codecs.Events.MaxVersion, out var row).Should().BeFalse();
        row.Should().BeNull();
    }

    [Theory]
    [MemberData(nameof(Fallbacks))]
    public void The_bulk_decoder_gives_the_verdict_of_the_live_decoder(string json)
    {
        var projection = new ChatProjection();
        var record = new SourceRecord(Names.ChatEvents, 0, 1, "c", Encoding.UTF8.GetBytes(json));

        var bulk = ((IProjection)projection).DecodeBulk(record, Names);
        var live = projection.Decode(record, Names);

        (bulk.Disposition, bulk.Type, bulk.Error).Should().Be((live.Disposition, live.Type, live.Error));
    }

    [Fact]
    public void Invalid_utf8_in_a_value_is_left_to_the_full_decoder()
    {
        var json = Encoding.UTF8.GetBytes("""{"type":"MessageSent","v":3,"chatId":"c","seq":3,"actor":{"userId":"u","deviceId":"d"},"occurredAt":"2026-11-25T22:00:00Z","messageId":"m","clientMsgId":"k","body":"bXX"}""");
        var at = Array.IndexOf(json, (byte)'X');
        json[at] = 0xC3;
        json[at + 1] = 0x28;

        MessageCopyReader.TryRead(json, Codecs.Events.MaxVersion, out _).Should().BeFalse();
    }

    [Fact]
    public void A_copy_row_has_the_binary_copy_layout()
    {
        var row = MessageRowCopy.Encode(new MessageRow("c", 258, "members.added", null, null, "u", "d", null, null, ["ab", "c"], "t", new DateTime(2000, 1, 1, 0, 0, 1, DateTimeKind.Utc)));
        var fields = Fields(row);

        fields.Should().HaveCount(16);
        Encoding.UTF8.GetString(fields[0]!).Should().Be("c");
        BinaryPrimitives.ReadInt64BigEndian(fields[1]).Should().Be(258);
        fields[3].Should().BeNull();
        fields[8].Should().BeNull();
        // text[]: one dimension, no nulls, element type text (oid 25), 2 elements from index 1, then each element.
        fields[9].Should().Equal(0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 25, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2, (byte)'a', (byte)'b', 0, 0, 0, 1, (byte)'c');
        // timestamptz: microseconds since 2000-01-01 UTC.
        BinaryPrimitives.ReadInt64BigEndian(fields[11]).Should().Be(1_000_000);
        fields[12..].Should().AllSatisfy(f => f.Should().BeNull());
    }

    [Fact]
    public void Reply_payload_target_and_emoji_columns_follow_the_sent_at_column()
    {
        var row = MessageRowCopy.Encode(new MessageRow("c", 9, "reaction", "m9", null, "u", "d", null, null, null, null, new DateTime(2000, 1, 1, 0, 0, 1, DateTimeKind.Utc), "m1", "{\"u/d\":\"eA==\"}", 4, "👍"));
        var fields = Fields(row);

        fields.Should().HaveCount(16);
        Encoding.UTF8.GetString(fields[12]!).Should().Be("m1");
        fields[13]![0].Should().Be(1, "jsonb starts with its format version");
        Encoding.UTF8.GetString(fields[13]!.AsSpan(1)).Should().Be("{\"u/d\":\"eA==\"}");
        BinaryPrimitives.ReadInt64BigEndian(fields[14]).Should().Be(4);
        Encoding.UTF8.GetString(fields[15]!).Should().Be("👍");
    }

    [Fact]
    public void A_rebuild_copy_row_carries_its_log_offset_as_one_more_field_at_the_end()
    {
        var row = MessageRowCopy.Encode(ChatRows.Message(Message("b")));
        var buffer = new byte[row.Length + 32];

        var end = ChatProjection.AppendWithLogOffset(buffer, 3, row, 9_876_543_210);

        end.Should().Be(3 + row.Length + 12);
        var fields = Fields(buffer[3..end]);
        fields.Should().HaveCount(17);
        fields[..16].Should().BeEquivalentTo(Fields(row), o => o.WithStrictOrdering());
        BinaryPrimitives.ReadInt64BigEndian(fields[16]).Should().Be(9_876_543_210);
    }

    [Fact]
    public void Attachments_are_written_as_jsonb_with_its_version_byte()
    {
        var row = MessageRowCopy.Encode(ChatRows.Message(Message("b") with { Attachments = [new Attachment("k", "image/png", 3)] }));

        var attachments = Fields(row)[8]!;

        attachments[0].Should().Be(1);
        Encoding.UTF8.GetString(attachments.AsSpan(1)).Should().Be("""[{"key":"k","contentType":"image/png","size":3}]""");
    }

    private static MessageSent Message(string body) => new()
    {
        ChatId = "chat-7",
        Seq = 1_234_567_890_123,
        Actor = new DeviceRef("ana", "phone"),
        OccurredAt = T0,
        MessageId = "m-1",
        ClientMsgId = "k-1",
        Body = body,
    };

    private static byte[] FullPath(byte[] bytes)
    {
        var decoded = Codecs.Events.Decode(bytes);
        decoded.IsOk.Should().BeTrue(decoded.Error);
        return MessageRowCopy.Encode(ChatRows.Message(decoded.Value!));
    }

    private static List<byte[]?> Fields(byte[] row)
    {
        var count = BinaryPrimitives.ReadInt16BigEndian(row);
        var fields = new List<byte[]?>(count);
        var at = 2;
        for (var i = 0; i < count; i++)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(row.AsSpan(at));
            at += 4;
            fields.Add(length < 0 ? null : row.AsSpan(at, length).ToArray());
            at += Math.Max(length, 0);
        }

        at.Should().Be(row.Length);
        return fields;
    }
}
