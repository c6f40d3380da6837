using Messaging.Contracts.Protocol;
using Messaging.IntegrationTests.EndToEnd;
using Messaging.IntegrationTests.Harness;
using Xunit.Abstractions;

namespace Messaging.IntegrationTests.Telemetry;

/// <summary>Issue 14: every service serves its OpenTelemetry metrics on <c>/metrics</c>, and a conversation moves them.</summary>
public sealed class MetricsEndpointTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private ChatSystem _system = null!;

    public async Task InitializeAsync() => _system = await ChatSystem.StartAsync(edgeNodes: 2);

    public async Task DisposeAsync() => await _system.DisposeAsync();

    [Fact]
    public async Task A_conversation_moves_the_key_series_on_every_services_metrics_endpoint()
    {
        var (ana, bo) = (Unique("ana"), Unique("bo"));
        var anaPhone = await _system.ConnectAsync(0, ana, ana + "-phone");
        var boLaptop = await _system.ConnectAsync(1, bo, bo + "-laptop");
        var chatId = await anaPhone.CreateChatAsync([bo], "Metrics");
        const int messages = 5;
        for (var i = 1; i <= messages; i++)
        {
            await anaPhone.SendMessageAsync(chatId, "hello " + i);
        }

        await boLaptop.WaitForAsync<MessageFrame>(m => m.ChatId == chatId && m.Body == "hello " + messages, Timeout);
        await anaPhone.SyncAsync();

        // Observable instruments are read at scrape time, lags are sampled once a second, and the
        // chat projection applies on its own schedule: wait for the values, not for a fixed time.
        var router = await Eventually.ReturnsAsync(
            () => PrometheusScrape.FetchAsync(_system.Router.BaseAddress),
            s => s.Sum("messaging_router_commands_total") >= messages + 1 && s.Has("messaging_kafka_consumer_lag", "chat.commands"),
            Timeout,
            "the Router's commands counter");
        var projections = await Eventually.ReturnsAsync(
            () => PrometheusScrape.FetchAsync(_system.Projections.BaseAddress),
            s => s.Sum("messaging_projections_applied_total", "projection=\"chat\"") >= messages + 1 && s.Has("messaging_kafka_consumer_lag", "projections.chat"),
            Timeout,
            "the chat projection's applied counter");
        var sender = await PrometheusScrape.FetchAsync(_system.Edges[0].BaseAddress);
        // The lag of a partition is known once the consumer has read from it, sampled once a second.
        var receiver = await Eventually.ReturnsAsync(
            () => PrometheusScrape.FetchAsync(_system.Edges[1].BaseAddress),
            s => s.Has("messaging_kafka_consumer_lag", "group=\"edge-delivery-1\""),
            Timeout,
            "the delivery consumer's lag");
        output.WriteLine(receiver.Text);

        sender.Sum("messaging_edge_sends_accepted_total").Should().BeGreaterThanOrEqualTo(messages);
        sender.Sum("messaging_edge_frames_in_total", "type=\"SendMessageFrame\"").Should().BeGreaterThanOrEqualTo(messages);
        sender.Sum("messaging_edge_frames_out_total", "type=\"MessageAcceptedFrame\"").Should().BeGreaterThanOrEqualTo(messages);
        sender.Sum("messaging_edge_connections").Should().BeGreaterThanOrEqualTo(1);
        sender.Sum("messaging_edge_connections_opened_total").Should().BeGreaterThanOrEqualTo(1);
        sender.Sum("messaging_edge_sync_wait_seconds_count").Should().BeGreaterThanOrEqualTo(1, "ana synced once");
        sender.Has("messaging_edge_send_queue_bytes").Should().BeTrue();
        receiver.Sum("messaging_edge_deliveries_pushed_total").Should().BeGreaterThanOrEqualTo(messages);
        receiver.Sum("messaging_edge_frames_out_total", "type=\"MessageFrame\"").Should().BeGreaterThanOrEqualTo(messages);
        receiver.Has("messaging_kafka_consumer_lag", "group=\"edge-delivery-1\"").Should().BeTrue();
        receiver.Text.Should().Contain("kestrel_", "ASP.NET Core's meters are on");
        receiver.Text.Should().NotContain("aspnetcore_memory_pool", "Kestrel's memory pool meter is off unless Telemetry:MemoryPoolMetrics");

        router.Sum("messaging_router_events_total").Should().BeGreaterThanOrEqualTo(messages + 1);
        router.Sum("messaging_router_batch_size_count").Should().BeGreaterThan(0);
        router.Sum("messaging_router_batch_duration_seconds_count").Should().BeGreaterThan(0);
        router.Has("messaging_kafka_consumer_lag", $"group=\"{_system.Namespace.TopicPrefix}router\"").Should().BeTrue();

        projections.Sum("messaging_projections_page_duration_seconds_count", "projection=\"chat\"").Should().BeGreaterThan(0);
        projections.Has("messaging_kafka_consumer_lag", "projections.chat").Should().BeTrue();
        projections.Has("dotnet_gc_collections_total").Should().BeTrue("runtime metrics are on (meter System.Runtime)");
    }

    [Fact]
    public async Task A_message_refused_for_its_size_is_counted_by_its_code()
    {
        var ana = Unique("ana");
        var anaPhone = await _system.ConnectAsync(0, ana, ana + "-phone");
        var chatId = await anaPhone.CreateChatAsync([Unique("bo")], "Refusals");

        var refused = () => anaPhone.SendMessageAsync(chatId, new string('x', 70_000));
        await refused.Should().ThrowAsync<Messaging.Client.ChatServerException>();

        var edge = await PrometheusScrape.FetchAsync(_system.Edges[0].BaseAddress);
        edge.Sum("messaging_edge_refusals_total", "code=\"too_large\"").Should().BeGreaterThanOrEqualTo(1);
    }

    private static string Unique(string name) => name + "-" + Guid.NewGuid().ToString("N")[..6];
}
