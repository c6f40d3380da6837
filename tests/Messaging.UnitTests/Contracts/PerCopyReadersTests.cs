using System.Text;
using System.Text.Json;
using Messaging.Contracts.Delivery;
using Messaging.Contracts.Devices;
using Messaging.Contracts.Protocol;
using Messaging.Contracts.Serialization;

namespace Messaging.UnitTests.Contracts;

/// <summary>
/// The hand-written readers must decide every input as the source-generated metadata does: the
/// same record, or a refusal where the serializer throws. Each case is decoded both ways.
/// </summary>
public sealed class PerCopyReadersTests
{
    private const string Ack = """{"userId":"ana","deviceId":"phone","chatId":"c1","seq":7,"ackedAt":"2026-11-27T12:00:00.1234567+00:00"}""";

    public static TheoryData<string> DeliveriesAckedCases => new()
    {
        // Accepted.
        $$"""{"type":"DeliveriesAcked","v":2,"acks":[{{Ack}},{"userId":"bo","deviceId":"d\u0032","chatId":"c\"2","seq":9223372036854775807,"ackedAt":"2026-11-27T12:00:00Z"}]}""",
        """{"type":"DeliveriesAcked","acks":[]}""",
        $$"""{"acks":[{{Ack}}],"extra":{"a":[1,{"b":null}]},"v":1,"type":"DeliveriesAcked"}""",
        """{"type":"DeliveriesAcked","\u0061cks":[{"ackedAt":"2026-11-27T12:00:00+01:00","seq":0,"chatId":"c","deviceId":"d","userId":"u","more":[true]}]}""",
        // Refused.
        """{"type":"DeliveriesAcked","v":2}""",
        """{"type":"DeliveriesAcked","acks":null}""",
        """{"type":"DeliveriesAcked","acks":{}}""",
        """{"type":"DeliveriesAcked","acks":[1]}""",
        """{"type":"DeliveriesAcked","acks":[{"deviceId":"d","chatId":"c","seq":1,"ackedAt":"2026-11-27T12:00:00Z"}]}""",
        """{"type":"DeliveriesAcked","acks":[{"userId":"u","chatId":"c","seq":1,"ackedAt":"2026-11-27T12:00:00Z"}]}""",
        """{"type":"DeliveriesAcked","acks":[{"userId":"u","deviceId":"d","seq":1,"ackedAt":"2026-11-27T12:00:00Z"}]}""",
        """{"type":"DeliveriesAcked","acks":[{"userId":"u","deviceId":"d","chatId":"c","ackedAt":"2026-11-27T12:00:00Z"}]}""",
        """{"type":"DeliveriesAcked","acks":[{"userId":"u","deviceId":"d","chatId":"c","seq":1}]}""",
        """{"type":"DeliveriesAcked","acks":[{"userId":null,"deviceId":"d","chatId":"c","seq":1,"ackedAt":"2026-11-27T12:00:00Z"}]}""",
        """{"type":"DeliveriesAcked","acks":[{"userId":"u","deviceId":"d","chatId":"c","seq":"1","ackedAt":"2026-11-27T12:00:00Z"}]}""",
        """{"type":"DeliveriesAcked","acks":[{"userId":"u","deviceId":"d","chatId":"c","seq":1.5,"ackedAt":"2026-11-27T12:00:00Z"}]}""",
        """{"type":"DeliveriesAcked","acks":[{"userId":"u","deviceId":"d","chatId":"c","seq":1,"ackedAt":"yesterday"}]}""",
        """{"type":"DeliveriesAcked","acks":[{"userId":7,"deviceId":"d","chatId":"c","seq":1,"ackedAt":"2026-11-27T12:00:00Z"}]}""",
        """{"type":"DeliveriesAcked","v":"2","acks":[]}""",
        """{"type":"DeliveriesAcked","acks":[]} {}""",
        """{"type":"DeliveriesAcked","acks":[],}""",
        """{"type":"DeliveriesAcked","acks":[{"userId":"\ud800x","deviceId":"d","chatId":"c","seq":1,"ackedAt":"2026-11-27T12:00:00Z"}]}""",
        """{"type":"DeliveriesAcked","acks":[{"userId":"u","deviceId":"\udc00","chatId":"c","seq":1,"ackedAt":"2026-11-27T12:00:00Z"}]}""",
    };

    public static TheoryData<string> AckFrameCases => new()
    {
        // Accepted.
        """{"type":"ack","chatId":"c1","seq":12}""",
        """{"seq":12,"chatId":"c\u00e91","type":"ack","id":"r1"}""",
        """{"type":"ack","id":null,"chatId":"c1","seq":0,"unknown":{"x":[1,2]}}""",
        // Refused.
        """{"type":"ack","seq":12}""",
        """{"type":"ack","chatId":"c1"}""",
        """{"type":"ack","chatId":null,"seq":12}""",
        """{"type":"ack","chatId":"c1","seq":"12"}""",
        """{"type":"ack","chatId":"c1","seq":-1.25}""",
        """{"type":"ack","chatId":5,"seq":12}""",
        """{"type":"ack","id":3,"chatId":"c1","seq":12}""",
        """{"type":"ack","chatId":"c1","seq":12}x""",
        """{"type":"ack","id":"\ud800x","chatId":"c1","seq":1}""",
        """{"type":"ack","chatId":"\ud800","seq":1}""",
    };

    private const string Receipt = """{"userId":"ana","seq":7,"at":"2026-11-27T12:00:00.1234567+00:00"}""";

    public static TheoryData<string> ReceiptsRoutedCases => new()
    {
        // Accepted.
        $$"""{"type":"ReceiptsRouted","v":2,"devices":["bo/phone","bo/web"],"chatId":"g:1","state":"delivered","receipts":[{{Receipt}},{"userId":"c\u0079","seq":9223372036854775807,"at":"2026-11-27T12:00:00Z"}]}""",
        """{"type":"ReceiptsRouted","devices":[],"chatId":"g:1","state":"read","receipts":[]}""",
        $$"""{"receipts":[{{Receipt}}],"extra":{"a":[1,{"b":null}]},"state":"delivered","chatId":"c\"2","devices":["u/d"],"v":1,"type":"ReceiptsRouted"}""",
        """{"type":"ReceiptsRouted","devices":["u/d"],"chatId":"c","state":"s","\u0072eceipts":[{"at":"2026-11-27T12:00:00+01:00","seq":0,"userId":"u","more":[true]}]}""",
        // Refused.
        """{"type":"ReceiptsRouted","chatId":"c","state":"s","receipts":[]}""",
        """{"type":"ReceiptsRouted","devices":["u/d"],"state":"s","receipts":[]}""",
        """{"type":"ReceiptsRouted","devices":["u/d"],"chatId":"c","receipts":[]}""",
        """{"type":"ReceiptsRouted","devices":["u/d"],"chatId":"c","state":"s"}""",
        """{"type":"ReceiptsRouted","devices":null,"chatId":"c","state":"s","receipts":[]}""",
        """{"type":"ReceiptsRouted","devices":"u/d","chatId":"c","state":"s","receipts":[]}""",
        """{"type":"ReceiptsRouted","devices":[7],"chatId":"c","state":"s","receipts":[]}""",
        """{"type":"ReceiptsRouted","devices":["u/d"],"chatId":null,"state":"s","receipts":[]}""",
        """{"type":"ReceiptsRouted","devices":["u/d"],"chatId":"c","state":1,"receipts":[]}""",
        """{"type":"ReceiptsRouted","devices":["u/d"],"chatId":"c","state":"s","receipts":null}""",
        """{"type":"ReceiptsRouted","devices":["u/d"],"chatId":"c","state":"s","receipts":{}}""",
        """{"type":"ReceiptsRouted","devices":["u/d"],"chatId":"c","state":"s","receipts":[1]}""",
        """{"type":"ReceiptsRouted","devices":["u/d"],"chatId":"c","state":"s","receipts":[{"seq":1,"at":"2026-11-27T12:00:00Z"}]}""",
        """{"type":"ReceiptsRouted","devices":["u/d"],"chatId":"c","state":"s","receipts":[{"userId":"u","at":"2026-11-27T12:00:00Z"}]}""",
        """{"type":"ReceiptsRouted","devices":["u/d"],"chatId":"c","state":"s","receipts":[{"userId":"u","seq":1}]}""",
        """{"type":"ReceiptsRouted","devices":["u/d"],"chatId":"c","state":"s","receipts":[{"userId":null,"seq":1,"at":"2026-11-27T12:00:00Z"}]}""",
        """{"type":"ReceiptsRouted","devices":["u/d"],"chatId":"c","state":"s","receipts":[{"userId":"u","seq":"1","at":"2026-11-27T12:00:00Z"}]}""",
        """{"type":"ReceiptsRouted","devices":["u/d"],"chatId":"c","state":"s","receipts":[{"userId":"u","seq":1.5,"at":"2026-11-27T12:00:00Z"}]}""",
        """{"type":"ReceiptsRouted","devices":["u/d"],"chatId":"c","state":"s","receipts":[{"userId":"u","seq":1,"at":"yesterday"}]}""",
        """{"type":"ReceiptsRouted","devices":["u/d"],"chatId":"c","state":"s","receipts":[{"userId":"u","seq":1,"at":null}]}""",
        """{"type":"ReceiptsRouted","v":"2","devices":[],"chatId":"c","state":"s","receipts":[]}""",
        """{"type":"ReceiptsRouted","devices":[],"chatId":"c","state":"s","receipts":[]} {}""",
        """{"type":"ReceiptsRouted","devices":[],"chatId":"c","state":"s","receipts":[],}""",
        """{"type":"ReceiptsRouted","devices":["\ud800x"],"chatId":"c","state":"s","receipts":[]}""",
        """{"type":"ReceiptsRouted","devices":[],"chatId":"c","state":"s","receipts":[{"userId":"\udc00","seq":1,"at":"2026-11-27T12:00:00Z"}]}""",
    };

    [Theory]
    [MemberData(nameof(DeliveriesAckedCases))]
    public void A_deliveries_acked_record_is_read_as_the_serializer_reads_it(string json)
    {
        var utf8 = Encoding.UTF8.GetBytes(json);

        var read = Codecs.Devices.Decode(utf8);

        var expected = Serializer(() => JsonSerializer.Deserialize(utf8, ContractsJsonContext.Default.DeviceRecord));
        read.IsOk.Should().Be(expected is not null, read.Error);
        if (expected is not null)
        {
            read.Value.Should().BeOfType<DeliveriesAcked>().Which.Should().BeEquivalentTo(expected);
            Codecs.Devices.Encode(read.Value!).Should().Equal(Codecs.Devices.Encode(expected));
        }
    }

    [Theory]
    [MemberData(nameof(AckFrameCases))]
    public void An_ack_frame_is_read_as_the_serializer_reads_it(string json)
    {
        var utf8 = Encoding.UTF8.GetBytes(json);

        var read = Codecs.ClientFrames.Decode(utf8);

        var expected = Serializer(() => JsonSerializer.Deserialize(utf8, ContractsJsonContext.Default.ClientFrame));
        read.IsOk.Should().Be(expected is not null, read.Error);
        if (expected is not null)
        {
            read.Value.Should().BeOfType<AckFrame>().Which.Should().Be(expected);
        }
    }

    [Theory]
    [MemberData(nameof(ReceiptsRoutedCases))]
    public void A_receipts_routed_record_is_read_as_the_serializer_reads_it(string json)
    {
        var utf8 = Encoding.UTF8.GetBytes(json);

        var read = Codecs.Deliveries.Decode(utf8);

        var expected = Serializer(() => JsonSerializer.Deserialize(utf8, ContractsJsonContext.Default.NodeDelivery));
        read.IsOk.Should().Be(expected is not null, read.Error);
        if (expected is not null)
        {
            read.Value.Should().BeOfType<ReceiptsRouted>().Which.Should().BeEquivalentTo(expected);
            Codecs.Deliveries.Encode(read.Value!).Should().Equal(Codecs.Deliveries.Encode(expected));
        }
    }

    [Theory]
    [InlineData("""{"type":"ReceiptsRouted","devices":["u/d",null],"chatId":"c","state":"s","receipts":[]}""")]
    [InlineData("""{"type":"ReceiptsRouted","devices":["u/d"],"chatId":"c","state":"s","receipts":[{"userId":"u","seq":1,"at":"2026-11-27T12:00:00Z"},null]}""")]
    public void A_null_device_or_receipt_is_refused_where_the_serializer_would_hand_it_on(string json)
    {
        // The serializer does not check a collection's elements for null; the delivery thread
        // would then fail on the record instead of skipping it.
        Codecs.Deliveries.Decode(Encoding.UTF8.GetBytes(json)).Status.Should().Be(DecodeStatus.Malformed);
    }

    [Fact]
    public void A_null_ack_in_a_batch_is_refused_where_the_serializer_would_hand_it_on()
    {
        // The serializer does not check a collection's elements for null; a consumer would then fail on
        // the record instead of parking it.
        var utf8 = Encoding.UTF8.GetBytes($$"""{"type":"DeliveriesAcked","acks":[{{Ack}},null]}""");

        Codecs.Devices.Decode(utf8).Status.Should().Be(DecodeStatus.Malformed);
    }

    [Fact]
    public void Every_other_type_of_the_three_families_is_still_read_by_the_metadata()
    {
        var acked = Codecs.Devices.Decode(Encoding.UTF8.GetBytes("""{"type":"DeliveryAcked","deviceId":"d","userId":"u","chatId":"c","seq":3,"ackedAt":"2026-11-27T12:00:00Z"}"""));
        var sync = Codecs.ClientFrames.Decode(Encoding.UTF8.GetBytes("""{"type":"sync","limit":5}"""));
        var typing = Codecs.Deliveries.Decode(Encoding.UTF8.GetBytes("""{"type":"TypingRouted","v":2,"devices":["u/d"],"chatId":"c","userId":"bo","state":"started","expiresInMs":5000}"""));

        acked.Value.Should().BeOfType<DeliveryAcked>().Which.Seq.Should().Be(3);
        sync.Value.Should().BeOfType<SyncFrame>().Which.Limit.Should().Be(5);
        typing.Value.Should().BeOfType<TypingRouted>().Which.ExpiresInMs.Should().Be(5000);
    }

    private static T? Serializer<T>(Func<T?> deserialize)
        where T : class
    {
        try
        {
            return deserialize();
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
