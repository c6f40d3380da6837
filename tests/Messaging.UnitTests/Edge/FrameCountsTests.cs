using Messaging.Edge.Telemetry;

namespace Messaging.UnitTests.Edge;

public sealed class FrameCountsTests
{
    [Fact]
    public void Frames_are_reported_by_type_and_the_same_name_in_two_strings_is_one_counter()
    {
        var counts = new FrameCounts();
        var sameNameElsewhere = new string("AckFrame".AsSpan());
        counts.Increment("AckFrame");
        counts.Increment("AckFrame");
        counts.Increment(sameNameElsewhere);
        counts.Increment("MessageFrame");

        counts.Observe().Select(m => ((string)m.Tags[0].Value!, m.Value, m.Tags[0].Key))
            .Should().BeEquivalentTo([("AckFrame", 3L, "type"), ("MessageFrame", 1L, "type")]);
    }

    [Fact]
    public void Counts_taken_on_many_threads_are_all_reported()
    {
        var counts = new FrameCounts();

        Parallel.For(0, 8, _ =>
        {
            for (var i = 0; i < 10_000; i++)
            {
                counts.Increment(i % 2 == 0 ? "AckFrame" : "MessageFrame");
            }
        });

        counts.Observe().Sum(m => m.Value).Should().Be(80_000);
    }
}
