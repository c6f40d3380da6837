using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using Messaging.Contracts.Commands;
using Messaging.Contracts.Delivery;
using Messaging.Contracts.Events;
using Messaging.Contracts.Serialization;
using Messaging.Contracts.Topics;
using Messaging.Hosting.Telemetry;
using Messaging.Router.Chats;
using Messaging.Router.Routing;
using Microsoft.Extensions.Logging.Abstractions;
using static Messaging.UnitTests.Hosting.TestTraces;
using static Messaging.UnitTests.Router.RouterTestKit;

namespace Messaging.UnitTests.Router;

/// <summary>
/// Where a traced decision's trace context travels on <c>chat.events</c> and the node topics:
/// a header under <c>Kafka:TraceHeaders</c> (Modern), inside the event without (Kafka 0.9, which
/// the integration tests run, so the header path is only tested here).
/// </summary>
public sealed class EventTraceHeadersTests : IDisposable
{
    private readonly TopicNames _topics = new("p.");
    private readonly FakeDirectory _directory = new FakeDirectory(edgeNodes: 4)
        .WithDevices("ana", "phone")
        .WithDevices("bo", "phone")
        .Online("ana/phone", 0).Online("bo/phone", 2);

    private readonly ActivityListener _listener = Listen(RouterMetrics.MeterName);

    private static ConsumeResult<string, byte[]> Record(long offset, ChatCommand command, Headers? headers = null) => new()
    {
        Topic = "p.chat.commands",
        Partition = 0,
        Offset = offset,
        Message = new Message<string, byte[]> { Key = command.ChatId, Value = Codecs.Commands.Encode(command), Headers = headers },
    };

    private RecordingSink Process(bool traceHeaders, params ConsumeResult<string, byte[]>[] batch)
    {
        var states = new ChatStateStore();
        states.Load(0, []);
        var sink = new RecordingSink();
        using var processor = new CommandProcessor(_topics, new ChatLimits(10, 100, 10), 4, _directory, new FixedClock(Now), NullLogger.Instance, traceHeaders);
        processor.Process(batch, states, sink, CancellationToken.None);
        return sink;
    }

    private List<(string Topic, int Partition, string Key, byte[] Value, int Phase, Headers? Headers)> EventsAndDeliveries(RecordingSink sink) =>
        [.. sink.Records.Where(r => r.Topic == _topics.ChatEvents || r.Topic == _topics.DeliveryNode(0) || r.Topic == _topics.DeliveryNode(2))];

    [Fact]
    public void With_trace_headers_a_traced_decisions_event_and_node_records_carry_its_traceparent_as_a_header_and_not_inside()
    {
        var sink = Process(
            traceHeaders: true,
            Record(0, Group("g1", "ana", "Team", "bo")),
            Record(1, Send("g1", "bo", body: "hey"), TraceHeaders.Write(InHeader, enabled: true)));

        var traced = EventsAndDeliveries(sink).Where(r => r.Headers is not null).ToList();
        traced.Select(r => r.Topic).Should().BeEquivalentTo([_topics.ChatEvents, _topics.DeliveryNode(0), _topics.DeliveryNode(2)], "the event and both nodes' deliveries of the traced send");
        var traceparents = traced.Select(r => TraceHeaders.Read(r.Headers, null)).Distinct().ToList();
        var decide = ActivityContext.Parse(traceparents.Should().ContainSingle().Subject!, null);
        decide.TraceId.ToString().Should().Be("0af7651916cd43dd8448eb211c80319c", "the Router's decide span continues the command's trace");
        decide.SpanId.ToString().Should().NotBe("b7ad6b7169203331", "the header names the decide span, not Edge's accept");
        traced.Should().OnlyContain(r => !Encoding.UTF8.GetString(r.Value).Contains("traceparent", StringComparison.Ordinal), "the header replaces the field inside the record");
        sink.Decoded<ChatEvent>(_topics.ChatEvents).Should().OnlyContain(e => e.Traceparent == null);
    }

    [Fact]
    public void Without_trace_headers_the_traceparent_stays_inside_the_event_and_its_node_records_and_no_record_has_headers()
    {
        var sink = Process(
            traceHeaders: false,
            Record(0, Group("g1", "ana", "Team", "bo")),
            Record(1, Send("g1", "bo", body: "hey") with { Traceparent = InHeader }));

        sink.Records.Should().OnlyContain(r => r.Headers == null);
        var sent = sink.Decoded<ChatEvent>(_topics.ChatEvents).Single(e => e is MessageSent);
        sent.Traceparent.Should().StartWith("00-0af7651916cd43dd8448eb211c80319c-");
        sink.Decoded<NodeDelivery>(_topics.DeliveryNode(2)).Cast<EventRouted>().Single(r => r.Event is MessageSent).Event.Traceparent.Should().Be(sent.Traceparent);
        sink.Decoded<ChatEvent>(_topics.ChatEvents).Single(e => e is ChatCreated).Traceparent.Should().BeNull("its command was not traced");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void An_untraced_command_produces_records_without_headers_or_traceparent_whatever_the_profile(bool traceHeaders)
    {
        var sink = Process(traceHeaders, Record(0, Group("g1", "ana", "Team", "bo")), Record(1, Send("g1", "bo", body: "hey")));

        sink.Records.Should().NotBeEmpty().And.OnlyContain(r => r.Headers == null && !Encoding.UTF8.GetString(r.Value).Contains("traceparent", StringComparison.Ordinal));
    }

    public void Dispose() => _listener.Dispose();
}
