using Confluent.Kafka;
using Messaging.Hosting.Kafka;
using Messaging.Hosting.Telemetry;

namespace Messaging.UnitTests.Hosting;

/// <summary>Trace context in Kafka headers (Modern profile); the integration tests run Kafka 0.9, which has none.</summary>
public sealed class TraceHeadersTests
{
    private const string Traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    [Fact]
    public void A_traced_record_carries_its_traceparent_in_a_header_where_the_broker_has_headers()
    {
        var headers = TraceHeaders.Write(Traceparent, enabled: true);

        headers.Should().ContainSingle().Which.Key.Should().Be("traceparent");
        TraceHeaders.Read(headers, inRecord: null).Should().Be(Traceparent);
    }

    [Fact]
    public void An_untraced_record_or_a_broker_without_headers_gets_no_header()
    {
        TraceHeaders.Write(null, enabled: true).Should().BeNull();
        TraceHeaders.Write(Traceparent, enabled: false).Should().BeNull();
    }

    [Fact]
    public void A_reader_falls_back_to_the_traceparent_inside_the_record()
    {
        const string InRecord = "00-11111111111111111111111111111111-2222222222222222-01";

        TraceHeaders.Read(null, InRecord).Should().Be(InRecord);
        TraceHeaders.Read([], InRecord).Should().Be(InRecord);
        TraceHeaders.Read(new Headers { { "other", [1] } }, InRecord).Should().Be(InRecord);
        TraceHeaders.Read(TraceHeaders.Write(Traceparent, enabled: true), InRecord).Should().Be(Traceparent, "the header wins");
        TraceHeaders.Read(null, null).Should().BeNull();
    }

    [Theory]
    [InlineData("Modern", "True")]
    [InlineData("Legacy09", "False")]
    public void Only_the_modern_profile_puts_trace_context_in_headers(string profile, string expected)
    {
        KafkaProfileConfiguration.LoadProfile(profile).Should().Contain(new KeyValuePair<string, string?>("Kafka:TraceHeaders", expected));
    }
}
