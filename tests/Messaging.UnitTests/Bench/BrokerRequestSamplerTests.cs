using Messaging.Bench.Metrics;

namespace Messaging.UnitTests.Bench;

public sealed class BrokerRequestSamplerTests
{
    // ss -tinpH state established '( dport = :29092 )', trimmed: a socket line, then its counters.
    private const string Output =
        "0      0               127.0.0.1:58086          127.0.0.1:29092 users:((\"dotnet\",pid=17475,fd=264))\n"
        + "\t bbr wscale:1,10 rto:204 rtt:0.299/0.15 bytes_sent:1729 segs_out:29 segs_in:18 data_segs_out:14 data_segs_in:15 lastsnd:99128\n"
        + "0      0      [::ffff:127.0.0.1]:59722 [::ffff:127.0.0.1]:29092 users:((\"java\",pid=14876,fd=1487))\n"
        + "\t bbr wscale:1,10 rto:208 bytes_sent:340252 segs_out:249 segs_in:150 data_segs_out:142 data_segs_in:141\n"
        + "0      0               127.0.0.1:58112          127.0.0.1:29092 users:((\"dotnet\",pid=17475,fd=269))\n"
        + "\t bbr wscale:1,10 rto:204 segs_out:2 segs_in:1\n"
        + "0      0               127.0.0.1:58120          127.0.0.1:29092\n"
        + "\t bbr wscale:1,10 rto:204 data_segs_out:7\n";

    [Fact]
    public void Each_socket_is_read_with_its_owner_and_the_data_segments_it_sent()
    {
        var sockets = BrokerRequestSampler.Parse(Output);

        sockets.Should().Equal(
            new BrokerSocket(17475, "127.0.0.1:58086", 14),
            new BrokerSocket(14876, "[::ffff:127.0.0.1]:59722", 142),
            new BrokerSocket(17475, "127.0.0.1:58112", 0));
    }

    [Fact]
    public void Requests_per_second_are_summed_per_service_counting_new_sockets_from_zero_and_leaving_others_out()
    {
        var sampler = new BrokerRequestSampler(29092, new Dictionary<int, string> { [1] = "router", [2] = "edge-0" });
        BrokerSocket[] before = [new(1, "a", 100), new(1, "b", 50), new(2, "c", 10), new(2, "gone", 5), new(9, "other", 0)];
        BrokerSocket[] after = [new(1, "a", 300), new(1, "b", 50), new(2, "c", 30), new(2, "new", 20), new(9, "other", 1000)];

        var lines = sampler.PerProcess(before, after, TimeSpan.FromSeconds(2));

        lines.Should().Equal(
            new BrokerRequests("edge-0", 2, 20),
            new BrokerRequests("router", 2, 100),
            new BrokerRequests("total", 4, 120));
    }

    [Theory]
    [InlineData("127.0.0.1:29092", true)]
    [InlineData("kafka-1:9092,kafka-2:9092", true)]
    [InlineData("", false)]
    [InlineData("no-port", false)]
    public void A_sampler_needs_the_brokers_port(string bootstrapServers, bool created)
    {
        var sampler = BrokerRequestSampler.Create(bootstrapServers, new Dictionary<int, string> { [1] = "router" });

        (sampler is not null).Should().Be(created);
    }

    [Fact]
    public void Without_the_services_pids_nothing_is_sampled()
    {
        BrokerRequestSampler.Create("127.0.0.1:29092", services: null).Should().BeNull();
    }
}
