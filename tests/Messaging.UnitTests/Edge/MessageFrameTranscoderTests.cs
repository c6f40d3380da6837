using System.Text;
using System.Text.Json.Nodes;
using Messaging.Contracts;
using Messaging.Contracts.Commands;
using Messaging.Contracts.Delivery;
using Messaging.Contracts.Events;
using Messaging.Contracts.Protocol;
using Messaging.Contracts.Serialization;
using Messaging.Edge.Delivery;
using Messaging.Edge.Sockets;
using Messaging.Router.Routing;

namespace Messaging.UnitTests.Edge;

public sealed class MessageFrameTranscoderTests
{
    private static readonly DateTimeOffset At = new(2026, 1, 1, 0, 0, 0, 123, TimeSpan.FromHours(2));

    private static readonly MessageSent Plain = new()
    {
        ChatId = "chat-é/1",
        Seq = 42,
        Actor = new DeviceRef("ana", "ana-phone"),
        OccurredAt = At,
        MessageId = "m-1",
        ClientMsgId = "cm-1",
        Body = "he said \"hi\"\n<b>&</b> \u00e9\u4e2d \ud83d\ude00",
        Attachments = [new Attachment("media/k1", "image/png", 1234, "a \"b\".png"), new Attachment("media/k2", "video/mp4", 5)],
        ReplyTo = "m-0",
        Traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    };

    public static TheoryData<string, bool> Encoders => new()
    {
        { "contract serializer", false },
        { "contract serializer", true },
        { "router encoder", false },
        { "router encoder", true },
    };

    [Theory]
    [MemberData(nameof(Encoders))]
    public void A_plain_routed_message_becomes_the_frame_the_general_path_encodes(string encoder, bool hopTimestamps)
    {
        var record = Record(encoder, Plain, At.AddMilliseconds(-7), ["ana/ana-tablet", "bo/bo-phone"]);
        DateTimeOffset? pushedAt = hopTimestamps ? At.AddMilliseconds(30) : null;
        using var transcoder = new MessageFrameTranscoder();

        transcoder.TryTranscode(record, pushedAt, out var frame, out var traceparent).Should().BeTrue();

        var general = SharedFrame.Encode(DeliveryFrames.ToFrame(Codecs.Deliveries.Decode(record).Value!, pushedAt)!);
        JsonNode.DeepEquals(JsonNode.Parse(frame!.Memory.Span), JsonNode.Parse(general.Memory.Span)).Should().BeTrue(
            $"fast {Encoding.UTF8.GetString(frame.Memory.Span)} general {Encoding.UTF8.GetString(general.Memory.Span)}");
        Codecs.ServerFrames.Decode(frame.Memory.Span).Value.Should().BeOfType<MessageFrame>().Which.Body.Should().Be(Plain.Body);
        (frame.ChatId, frame.Seq, frame.Type).Should().Be((Plain.ChatId, Plain.Seq, nameof(MessageFrame)));
        traceparent.Should().Be(Plain.Traceparent);
        frame.Release();
        general.Release();
    }

    [Fact]
    public void A_message_without_optional_fields_becomes_the_frame_the_general_path_encodes()
    {
        var bare = Plain with { Attachments = null, ReplyTo = null, Traceparent = null };
        var record = Record("router encoder", bare, null, ["ana/ana-tablet"]);
        using var transcoder = new MessageFrameTranscoder();

        transcoder.TryTranscode(record, At, out var frame, out var traceparent).Should().BeTrue();

        var general = SharedFrame.Encode(DeliveryFrames.ToFrame(Codecs.Deliveries.Decode(record).Value!, At)!);
        JsonNode.DeepEquals(JsonNode.Parse(frame!.Memory.Span), JsonNode.Parse(general.Memory.Span)).Should().BeTrue();
        traceparent.Should().BeNull();
        frame.Release();
        general.Release();
    }

    [Fact]
    public void The_listed_addresses_are_read_in_place_escaped_or_not()
    {
        List<string> devices = ["ana/ana-tablet", "zoë/phone", "q\"uote/d", "tab\t/d", "\ud83d\ude00/d"];
        var record = Record("contract serializer", Plain, null, devices);
        using var transcoder = new MessageFrameTranscoder();

        transcoder.TryTranscode(record, null, out var frame, out _).Should().BeTrue();

        var read = Enumerable.Range(0, transcoder.DeviceCount).Select(i => transcoder.Device(record, i).ToString());
        read.Should().Equal(devices);
        frame!.Release();
    }

    [Fact]
    public void Records_it_does_not_fully_understand_are_left_to_the_general_path()
    {
        var plain = Encoding.UTF8.GetString(Record("contract serializer", Plain, null, ["ana/ana-tablet"]));
        var cases = new Dictionary<string, byte[]>
        {
            ["encrypted"] = Record("router encoder", Plain with { Body = "", Payloads = new Dictionary<string, string> { ["ana/ana-tablet"] = "c2VjcmV0" } }, null, ["ana/ana-tablet"]),
            ["another event"] = Record("router encoder", new MessagesRead { ChatId = "c", Seq = 3, Actor = Plain.Actor, OccurredAt = At }, null, ["ana/ana-tablet"]),
            ["another record"] = Codecs.Deliveries.Encode(new TypingRouted { Devices = ["ana/ana-tablet"], ChatId = "c", UserId = "ana", State = "started", ExpiresInMs = 5000 }),
            ["an older event version"] = Bytes(plain.Replace("\"v\":3", "\"v\":2", StringComparison.Ordinal)),
            ["another record version"] = Bytes(plain.Replace("\"v\":2", "\"v\":1", StringComparison.Ordinal)),
            ["a missing body"] = Bytes(plain.Replace("\"body\":", "\"bodyX\":", StringComparison.Ordinal)),
            ["a null body"] = Bytes(Replace(plain, "body", "null")),
            ["a seq that is text"] = Bytes(plain.Replace("\"seq\":42", "\"seq\":\"42\"", StringComparison.Ordinal)),
            ["an actor that is text"] = Bytes(Replace(plain, "actor", "\"ana\"")),
            ["no devices"] = Bytes(plain.Replace("\"devices\":", "\"devicesX\":", StringComparison.Ordinal)),
            ["type not first"] = Bytes("{\"devices\":[],\"type\":\"EventRouted\"}"),
            ["truncated"] = Bytes(plain[..(plain.Length / 2)]),
            ["not JSON"] = Bytes("\u0001\u0002garbage"),
            ["empty"] = [],
        };
        using var transcoder = new MessageFrameTranscoder();

        foreach (var (name, record) in cases)
        {
            transcoder.TryTranscode(record, At, out var frame, out _).Should().BeFalse(name);
            frame.Should().BeNull(name);
            transcoder.DeviceCount.Should().Be(0, name);
        }

        // Still usable afterwards.
        transcoder.TryTranscode(Bytes(plain), null, out var again, out _).Should().BeTrue();
        again!.Release();
    }

    [Fact]
    public void It_knows_every_property_of_the_records_it_reads()
    {
        // A property added to MessageSent (or EventRouted) must be looked at here: the transcoder
        // skips names it does not know, so a new field meant for clients would be silently lost.
        Properties<MessageSent>().Should().BeEquivalentTo(
            "V", "ChatId", "Seq", "Actor", "OccurredAt", "Traceparent", "MessageId", "ClientMsgId", "Body", "Attachments", "ReplyTo", "Payloads");
        Properties<EventRouted>().Should().BeEquivalentTo("V", "Devices", "Event", "AcceptedAt");
    }

    private static IEnumerable<string> Properties<T>() =>
        typeof(T).GetProperties().Where(p => p.Name != "EqualityContract").Select(p => p.Name);

    private static byte[] Record(string encoder, ChatEvent evt, DateTimeOffset? acceptedAt, List<string> devices)
    {
        if (encoder == "router encoder")
        {
            using var router = new DeliveryEncoder();
            return router.EventRouted(Codecs.Events.Encode(evt), acceptedAt, devices);
        }

        return Codecs.Deliveries.Encode(new EventRouted { Event = evt, AcceptedAt = acceptedAt, Devices = devices });
    }

    private static string Replace(string json, string property, string value)
    {
        var node = JsonNode.Parse(json)!;
        node["event"]![property] = JsonNode.Parse(value);
        return node.ToJsonString();
    }

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);
}
