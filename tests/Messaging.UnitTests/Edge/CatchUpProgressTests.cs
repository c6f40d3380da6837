using Messaging.Edge.Sync;

namespace Messaging.UnitTests.Edge;

public sealed class CatchUpProgressTests
{
    [Fact]
    public void A_partition_is_behind_until_the_inbox_checkpoint_reaches_its_high_watermark()
    {
        var applied = new Dictionary<int, long> { [0] = 9, [1] = 10 };

        CatchUpProgress.PartitionsBehind([10, 10], applied).Should().Be(1);
        applied[0] = 10;
        CatchUpProgress.PartitionsBehind([10, 10], applied).Should().Be(0);
    }

    [Fact]
    public void An_empty_partition_needs_nothing_even_without_a_checkpoint_row()
    {
        CatchUpProgress.PartitionsBehind([0, 0, 0], new Dictionary<int, long>()).Should().Be(0);
    }

    [Fact]
    public void A_partition_with_records_and_no_checkpoint_row_is_behind()
    {
        CatchUpProgress.PartitionsBehind([0, 3], new Dictionary<int, long> { [0] = 0 }).Should().Be(1);
    }

    [Fact]
    public void A_checkpoint_past_the_watermark_read_at_the_start_counts_as_caught_up()
    {
        CatchUpProgress.PartitionsBehind([5], new Dictionary<int, long> { [0] = 12 }).Should().Be(0);
    }

    [Fact]
    public void The_applied_sum_moves_when_a_page_of_any_partition_is_applied()
    {
        var applied = new Dictionary<int, long> { [0] = 9, [1] = 10 };
        var before = CatchUpProgress.Sum(applied);

        applied[1] = 11;

        CatchUpProgress.Sum(applied).Should().NotBe(before).And.Be(20);
        CatchUpProgress.Sum(new Dictionary<int, long>()).Should().Be(0);
    }
}
