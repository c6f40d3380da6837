using System.Diagnostics;
using Messaging.Contracts.Protocol;
using Messaging.IntegrationTests.EndToEnd;
using Messaging.IntegrationTests.Harness;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace Messaging.IntegrationTests.Telemetry;

/// <summary>
/// Issue 14: one trace per traced message, carried inside the records (Kafka 0.9 has no headers):
/// Edge accept → Router decide → Edge push on every node with recipients → projection apply.
/// </summary>
public sealed class MessageTraceTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly List<Activity> _spans = [];
    private TracerProvider _collector = null!;
    private ChatSystem _system = null!;

    public async Task InitializeAsync()
    {
        // The services run in this process, so one in-memory exporter sees every service's spans.
        _collector = Sdk.CreateTracerProviderBuilder().AddSource("Messaging.*").AddInMemoryExporter(_spans).Build()!;
        _system = await ChatSystem.StartAsync(edgeNodes: 2, configure: s => s["Telemetry:TraceSampleRatio"] = "1");
    }

    public async Task DisposeAsync()
    {
        await _system.DisposeAsync();
        _collector.Dispose();
    }

    [Fact]
    public async Task A_sent_messages_spans_in_edge_router_and_projections_share_one_trace()
    {
        var (ana, bo) = (Unique("ana"), Unique("bo"));
        var anaPhone = await _system.ConnectAsync(0, ana, ana + "-phone");
        var boLaptop = await _system.ConnectAsync(1, bo, bo + "-laptop");
        var chatId = await anaPhone.CreateChatAsync([bo], "Traced");
        await boLaptop.WaitForAsync<ChatUpdatedFrame>(u => u.ChatId == chatId, Timeout);

        await anaPhone.SendMessageAsync(chatId, "traced hello");
        await boLaptop.WaitForAsync<MessageFrame>(m => m.ChatId == chatId && m.Body == "traced hello", Timeout);

        // Wait until the chat projection's span has ended (it applies on its own schedule).
        var trace = await Eventually.ReturnsAsync(
            () => Task.FromResult(TraceOf(chatId)),
            t => t is { } spans && spans.Any(s => s.OperationName == "projection apply") && spans.Count(s => s.OperationName == "delivery push") >= 2,
            Timeout,
            "the message's spans in every service");

        trace.Should().NotBeNull();
        var accept = trace!.Single(s => s.OperationName == "chat.command accept");
        var decide = trace!.Single(s => s.OperationName == "chat.command decide");
        accept.ParentSpanId.Should().Be(default(ActivitySpanId), "a message starts its own trace, not the socket's");
        decide.ParentSpanId.Should().Be(accept.SpanId);
        trace!.Where(s => s.OperationName is "delivery push" or "projection apply").Should().OnlyContain(s => s.ParentSpanId == decide.SpanId);
        trace!.Where(s => s.OperationName == "delivery push").Should().HaveCount(2, "both nodes hold a device of a member");
        trace!.Where(s => s.OperationName == "projection apply").Select(s => s.GetTagItem("messaging.projection")).Should().Contain("chat");
        trace!.Select(s => s.TraceId).Distinct().Should().ContainSingle();
    }

    /// <summary>The spans of the trace that the chat's SendMessage started, or null while it is not there yet.</summary>
    private List<Activity>? TraceOf(string chatId)
    {
        List<Activity> spans;
        lock (_spans)
        {
            spans = [.. _spans];
        }

        var accept = spans.FirstOrDefault(s =>
            s.OperationName == "chat.command accept"
            && (string?)s.GetTagItem("messaging.chat.id") == chatId
            && (string?)s.GetTagItem("messaging.command") == "SendMessage");
        return accept is null ? null : spans.Where(s => s.TraceId == accept.TraceId).ToList();
    }

    private static string Unique(string name) => name + "-" + Guid.NewGuid().ToString("N")[..6];
}
