using System.Diagnostics;
using Confluent.Kafka;
using Messaging.Contracts;
using Messaging.Contracts.Events;
using Messaging.Contracts.Serialization;
using Messaging.Contracts.Topics;
using Messaging.Hosting.Telemetry;
using Messaging.Projections.Chats;
using Messaging.Projections.Runtime;
using static Messaging.UnitTests.Hosting.TestTraces;

namespace Messaging.UnitTests.Projections;

/// <summary>
/// The projections' apply span takes a <c>chat.events</c> record's trace context from its header
/// (<c>Kafka:TraceHeaders</c>), else from the event (Kafka 0.9, and records written before).
/// </summary>
public sealed class ApplyTraceTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 26, 6, 0, 0, TimeSpan.Zero);
    private static readonly TopicNames Names = new("x.");

    private readonly List<Activity> _spans = [];
    private readonly ActivityListener _listener;

    public ApplyTraceTests() => _listener = Listen(ProjectionMetrics.MeterName, a =>
    {
        lock (_spans)
        {
            _spans.Add(a);
        }
    });

    private static SourceRecord Record(long offset, string? traceparent, Headers? headers) => new(
        Names.ChatEvents,
        0,
        offset,
        "c",
        Codecs.Events.Encode(new MessageSent { ChatId = "c", Seq = offset + 1, Actor = new DeviceRef("ana", "phone"), OccurredAt = T0, MessageId = $"m{offset}", ClientMsgId = $"k{offset}", Body = "hi", Traceparent = traceparent }),
        headers);

    private List<string> ParentsOfSpansFor(params string[] traceIds)
    {
        lock (_spans)
        {
            return [.. _spans.Where(s => traceIds.Contains(s.TraceId.ToString())).Select(s => s.ParentId!)];
        }
    }

    [Fact]
    public void A_traced_events_apply_span_continues_the_trace_in_its_header_else_the_one_inside_the_event()
    {
        var page = Page.Plan(
            new ChatProjection(),
            [
                Record(0, null, TraceHeaders.Write(InHeader, enabled: true)),
                Record(1, InRecord, null),
                Record(2, null, []),
            ],
            Names);

        ProjectionsTracing.PageCommitted("chat", page, T0);

        ParentsOfSpansFor("0af7651916cd43dd8448eb211c80319c", "11111111111111111111111111111111").Should().BeEquivalentTo([InHeader, InRecord], "the untraced record starts no span");
    }

    [Fact]
    public void The_header_wins_over_the_field_inside_the_event()
    {
        const string Other = "00-33333333333333333333333333333333-4444444444444444-01";
        var page = Page.Plan(new ChatProjection(), [Record(0, Other, new Headers { { TraceHeaders.Traceparent, System.Text.Encoding.ASCII.GetBytes("00-55555555555555555555555555555555-6666666666666666-01") } })], Names);

        ProjectionsTracing.PageCommitted("chat", page, T0);

        ParentsOfSpansFor("33333333333333333333333333333333", "55555555555555555555555555555555").Should().Equal("00-55555555555555555555555555555555-6666666666666666-01");
    }

    public void Dispose() => _listener.Dispose();
}
