using System.Diagnostics;
using Messaging.Hosting.Telemetry;

namespace Messaging.UnitTests.Hosting;

public sealed class MessagingTelemetryTests : IDisposable
{
    private readonly ActivitySource _source = new("Messaging.UnitTests." + Guid.NewGuid().ToString("N"));
    private readonly ActivityListener _listener;

    public MessagingTelemetryTests()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = s => s == _source,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    [Fact]
    public void A_record_without_a_traceparent_starts_no_span()
    {
        MessagingTelemetry.StartFrom(_source, "x", ActivityKind.Consumer, null).Should().BeNull();
    }

    [Fact]
    public void A_malformed_traceparent_starts_no_span()
    {
        MessagingTelemetry.StartFrom(_source, "x", ActivityKind.Consumer, "not-a-traceparent").Should().BeNull();
    }

    [Fact]
    public void A_span_started_from_a_records_traceparent_continues_that_trace()
    {
        using var root = MessagingTelemetry.StartRoot(_source, "accept", ActivityKind.Producer)!;
        var traceparent = MessagingTelemetry.CurrentTraceparent();

        using var child = MessagingTelemetry.StartFrom(_source, "decide", ActivityKind.Consumer, traceparent)!;

        traceparent.Should().Be(root.Id);
        child.TraceId.Should().Be(root.TraceId);
        child.ParentSpanId.Should().Be(root.SpanId);
    }

    [Fact]
    public void A_root_span_ignores_the_current_span_of_the_connection()
    {
        using var connection = _source.StartActivity("socket")!;

        using var message = MessagingTelemetry.StartRoot(_source, "accept", ActivityKind.Producer)!;

        message.ParentSpanId.Should().Be(default(ActivitySpanId));
        message.TraceId.Should().NotBe(connection.TraceId);
    }

    [Fact]
    public void Nothing_listening_means_no_span_and_no_traceparent()
    {
        using var unheard = new ActivitySource("Messaging.UnitTests.Unheard." + Guid.NewGuid().ToString("N"));

        MessagingTelemetry.StartRoot(unheard, "accept", ActivityKind.Producer).Should().BeNull();
        MessagingTelemetry.StartFrom(unheard, "decide", ActivityKind.Consumer, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01").Should().BeNull();
    }

    public void Dispose()
    {
        _listener.Dispose();
        _source.Dispose();
    }
}
