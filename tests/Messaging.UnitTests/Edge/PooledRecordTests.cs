using System.Text;
using Confluent.Kafka;
using Messaging.Edge.Delivery;

namespace Messaging.UnitTests.Edge;

public sealed class PooledRecordTests
{
    private static readonly SerializationContext Value = new(MessageComponentType.Value, "delivery.node-0");

    [Fact]
    public void A_record_is_copied_out_of_the_consumers_memory_into_a_pooled_buffer_that_outlives_it()
    {
        var source = Encoding.UTF8.GetBytes("""{"type":"ReceiptsRouted","devices":["ana/phone"]}""");

        var record = PooledRecordDeserializer.Instance.Deserialize(source, isNull: false, Value);
        source.AsSpan().Clear();

        record.IsNull.Should().BeFalse();
        Encoding.UTF8.GetString(record.Span).Should().Be("""{"type":"ReceiptsRouted","devices":["ana/phone"]}""");
        record.Buffer!.Length.Should().BeGreaterThanOrEqualTo(record.Length, "a pooled buffer may be longer than its record");
        record.Return();
    }

    [Fact]
    public void A_null_value_stays_null_and_an_empty_one_empty_and_neither_goes_to_the_pool()
    {
        var none = PooledRecordDeserializer.Instance.Deserialize(ReadOnlySpan<byte>.Empty, isNull: true, Value);
        var empty = PooledRecordDeserializer.Instance.Deserialize(ReadOnlySpan<byte>.Empty, isNull: false, Value);

        none.IsNull.Should().BeTrue();
        empty.IsNull.Should().BeFalse();
        empty.Span.IsEmpty.Should().BeTrue();
        none.Return();
        empty.Return();
    }
}
