using Messaging.Edge.Devices;
using Messaging.Edge.Sockets;

namespace Messaging.UnitTests.Edge;

public sealed class RenewalSlicesTests
{
    [Fact]
    public void Every_address_falls_in_one_slice_and_the_slices_stay_even()
    {
        const int Slices = 10;
        var counts = new int[Slices];
        for (var i = 0; i < 10_240; i++)
        {
            var address = $"g1024a-1764244800-u{i:D5}/d{i % 2}";
            var slice = RenewalSlices.Of(Hash(address), Slices);

            slice.Should().BeInRange(0, Slices - 1);
            RenewalSlices.Of(Hash(address), Slices).Should().Be(slice, "a socket is renewed in the same slice every period");
            counts[slice]++;
        }

        // A burst of a tenth, not of all: no slice holds more than 1.2 times its share.
        counts.Should().OnlyContain(n => n > 1024 * 0.8 && n < 1024 * 1.2);
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(500, 1)]
    [InlineData(1000, 1)]
    [InlineData(1001, 2)]
    [InlineData(10_240, 10)]
    [InlineData(1_000_000, 10)]
    public void A_node_renews_at_most_a_burst_at_once_in_at_most_the_periods_ticks(int sockets, int slices)
    {
        RenewalSlices.For(sockets, burst: 1000, maxSlices: 10).Should().Be(slices);
    }

    [Fact]
    public void With_one_slice_every_address_is_renewed_on_the_first_tick()
    {
        RenewalSlices.Of(Hash("ana/phone"), 1).Should().Be(0);
        RenewalSlices.Of(Hash("bo/laptop"), 1).Should().Be(0);
    }

    private static uint Hash(string address) => Connection.HashOf(address);
}
