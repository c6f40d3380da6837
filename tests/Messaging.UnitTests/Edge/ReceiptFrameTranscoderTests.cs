using System.Text;
using System.Text.Json.Nodes;
using Messaging.Contracts.Delivery;
using Messaging.Contracts.Protocol;
using Messaging.Contracts.Serialization;
using Messaging.Edge.Delivery;
using Messaging.Edge.Sockets;

namespace Messaging.UnitTests.Edge;

public sealed class ReceiptFrameTranscoderTests
{
    private static readonly DateTimeOffset At = new(2026, 1, 1, 0, 0, 0, 123, TimeSpan.FromHours(2));

    private static readonly ReceiptsRouted Routed = new()
    {
        Devices = ["ana/phone", "bo/phone", "zoë/tablet", "q\"uote/d"],
        ChatId = "chat-é/1",
        State = ConversationStates.Delivered,
        Receipts = [new("bo", 4, At), new("zoë", 3, At.AddSeconds(1)), new("q\"uote", 9, At.AddSeconds(2)), new("cy", 1, At)],
    };

    [Theory]
    [InlineData("ana")]
    [InlineData("bo")]
    [InlineData("zoë")]
    [InlineData("q\"uote")]
    [InlineData("cy")]
    public void Each_user_gets_the_frame_the_general_mapping_encodes_without_their_own_receipt(string userId)
    {
        var record = Codecs.Deliveries.Encode(Routed);
        using var transcoder = new ReceiptFrameTranscoder();

        transcoder.TryRead(record).Should().BeTrue();
        var own = transcoder.IndexOf(record, userId);
        var frame = transcoder.Frame(record, own);

        var others = Routed.Receipts.Where(r => r.UserId != userId).ToList();
        own.Should().Be(others.Count == Routed.Receipts.Count ? -1 : Routed.Receipts.ToList().FindIndex(r => r.UserId == userId));
        var general = SharedFrame.Encode(DeliveryFrames.ToFrame(Routed with { Receipts = others })!);
        JsonNode.DeepEquals(JsonNode.Parse(frame!.Memory.Span), JsonNode.Parse(general.Memory.Span)).Should().BeTrue(
            $"fast {Encoding.UTF8.GetString(frame.Memory.Span)} general {Encoding.UTF8.GetString(general.Memory.Span)}");
        Codecs.ServerFrames.Decode(frame.Memory.Span).Value.Should().BeOfType<ReceiptFrame>().Which.Receipts.Should().Equal(others);
        (frame.ChatId, frame.Type).Should().Be((null, nameof(ReceiptFrame)), "a receipt is not a chat event a device acks");
        frame.Release();
        general.Release();
    }

    [Fact]
    public void A_users_own_receipts_alone_make_no_frame_for_them()
    {
        var alone = Codecs.Deliveries.Encode(Routed with { Receipts = [new("bo", 4, At)] });
        var twice = Codecs.Deliveries.Encode(Routed with { Receipts = [new("bo", 4, At), new("bo", 5, At)] });
        using var transcoder = new ReceiptFrameTranscoder();

        transcoder.TryRead(alone).Should().BeTrue();
        transcoder.Frame(alone, transcoder.IndexOf(alone, "bo")).Should().BeNull();
        transcoder.TryRead(twice).Should().BeTrue();
        transcoder.Frame(twice, transcoder.IndexOf(twice, "bo")).Should().BeNull("every receipt of the user is theirs, as the general mapping leaves them all out");
    }

    [Fact]
    public void The_listed_addresses_are_read_in_place_escaped_or_not()
    {
        var record = Codecs.Deliveries.Encode(Routed);
        using var transcoder = new ReceiptFrameTranscoder();

        transcoder.TryRead(record).Should().BeTrue();

        Enumerable.Range(0, transcoder.DeviceCount).Select(i => transcoder.Device(record, i).ToString()).Should().Equal(Routed.Devices);
        transcoder.ReceiptCount.Should().Be(Routed.Receipts.Count);
    }

    [Fact]
    public void Records_it_does_not_fully_understand_are_left_to_the_general_path()
    {
        var json = Encoding.UTF8.GetString(Codecs.Deliveries.Encode(Routed));
        var cases = new Dictionary<string, byte[]>
        {
            ["another record"] = Codecs.Deliveries.Encode(new TypingRouted { Devices = ["ana/phone"], ChatId = "c", UserId = "bo", State = "started", ExpiresInMs = 5000 }),
            ["another record version"] = Bytes(json.Replace("\"v\":2", "\"v\":1", StringComparison.Ordinal)),
            ["a receipt with a property it does not know"] = Bytes(json.Replace("\"seq\":4,", "\"seq\":4,\"device\":\"phone\",", StringComparison.Ordinal)),
            ["a receipt without its user"] = Bytes(json.Replace("\"userId\":\"bo\",", string.Empty, StringComparison.Ordinal)),
            ["a null user"] = Bytes(json.Replace("\"userId\":\"bo\"", "\"userId\":null", StringComparison.Ordinal)),
            ["a seq that is text"] = Bytes(json.Replace("\"seq\":4", "\"seq\":\"4\"", StringComparison.Ordinal)),
            ["a time that is not one"] = Bytes(json.Replace("\"at\":\"2026-01-01T00:00:00.123+02:00\"", "\"at\":\"yesterday\"", StringComparison.Ordinal)),
            ["a receipt that is not an object"] = Bytes(json.Replace("\"receipts\":[", "\"receipts\":[1,", StringComparison.Ordinal)),
            ["no state"] = Bytes(json.Replace("\"state\":", "\"stateX\":", StringComparison.Ordinal)),
            ["no receipts"] = Bytes(json.Replace("\"receipts\":", "\"receiptsX\":", StringComparison.Ordinal)),
            ["no devices"] = Bytes(json.Replace("\"devices\":", "\"devicesX\":", StringComparison.Ordinal)),
            ["a null chat"] = Bytes(json.Replace("\"chatId\":\"chat-\\u00E9/1\"", "\"chatId\":null", StringComparison.Ordinal)),
            ["type not first"] = Bytes("{\"devices\":[],\"type\":\"ReceiptsRouted\"}"),
            ["truncated"] = Bytes(json[..(json.Length / 2)]),
            ["not JSON"] = Bytes("\u0001\u0002garbage"),
            ["empty"] = [],
        };
        using var transcoder = new ReceiptFrameTranscoder();

        foreach (var (name, record) in cases)
        {
            Encoding.UTF8.GetString(record).Should().NotBe(json, $"the case '{name}' changes the record");
            transcoder.TryRead(record).Should().BeFalse(name);
            transcoder.DeviceCount.Should().Be(0, name);
            transcoder.ReceiptCount.Should().Be(0, name);
        }

        // Still usable afterwards.
        transcoder.TryRead(Bytes(json)).Should().BeTrue();
    }

    [Fact]
    public void It_knows_every_property_of_the_records_it_reads()
    {
        // A receipt is copied as it is: a property added to UserReceipt would make every record
        // take the general path (the reader refuses names it does not know), and one added to
        // ReceiptsRouted would be skipped, so a new field meant for clients would be lost.
        Properties<ReceiptsRouted>().Should().BeEquivalentTo("V", "Devices", "ChatId", "State", "Receipts");
        Properties<UserReceipt>().Should().BeEquivalentTo("UserId", "Seq", "At");
    }

    private static IEnumerable<string> Properties<T>() =>
        typeof(T).GetProperties().Where(p => p.Name != "EqualityContract").Select(p => p.Name);

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);
}
