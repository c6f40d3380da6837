using Messaging.Projections.Archive;
using Messaging.Projections.Rebuild;
using Messaging.Projections.Runtime;
using Messaging.ReadModels.Checkpoints;

namespace Messaging.UnitTests.Projections;

/// <summary>The rebuild's parallel page writers: which writer gets which partition, and that each partition's pages land in log order.</summary>
public sealed class RebuildWritersTests
{
    private static readonly DateTime Hour13 = new(2026, 11, 25, 13, 0, 0, DateTimeKind.Utc);

    private static PartitionKey P(int partition) => new("chat.events", partition);

    [Fact]
    public void Each_partition_gets_one_writer_and_the_writers_get_equal_shares_of_equal_partitions()
    {
        var assignment = PageWriters.Assign([.. Enumerable.Range(0, 8).Select(p => (P(p), 125_000L))], 2);

        assignment.Keys.Should().BeEquivalentTo(Enumerable.Range(0, 8).Select(P));
        assignment.Values.Count(w => w == 0).Should().Be(4);
        assignment.Values.Count(w => w == 1).Should().Be(4);
    }

    [Fact]
    public void The_largest_partitions_are_placed_first_each_on_the_writer_with_the_fewest_records()
    {
        var assignment = PageWriters.Assign([(P(0), 10), (P(1), 100), (P(2), 60), (P(3), 50)], 2);

        // 100 -> writer 0; 60 -> writer 1; 50 -> writer 1 (60 < 100); 10 -> writer 0 (100 < 110).
        assignment.Should().BeEquivalentTo(new Dictionary<PartitionKey, int> { [P(1)] = 0, [P(2)] = 1, [P(3)] = 1, [P(0)] = 0 });
    }

    [Fact]
    public void Partitions_of_unknown_size_still_spread_over_the_writers()
    {
        var assignment = PageWriters.Assign([(P(0), 0), (P(1), 0), (P(2), 0), (P(3), 0)], 2);

        assignment.Should().BeEquivalentTo(new Dictionary<PartitionKey, int> { [P(0)] = 0, [P(1)] = 1, [P(2)] = 0, [P(3)] = 1 });
    }

    [Fact]
    public void No_more_writers_are_used_than_there_are_partitions()
    {
        PageWriters.Assign([(P(3), 5), (P(7), 500)], 8).Should().BeEquivalentTo(new Dictionary<PartitionKey, int> { [P(7)] = 0, [P(3)] = 1 });
        PageWriters.Assign([(P(0), 5), (P(1), 500)], 1).Values.Should().AllSatisfy(w => w.Should().Be(0));
        PageWriters.Assign([], 4).Should().BeEmpty();
    }

    [Fact]
    public async Task Each_writer_writes_its_pages_one_at_a_time_in_the_order_they_were_handed_in()
    {
        var written = new Dictionary<PartitionKey, List<long>>();
        var running = new int[2];
        var overlapped = false;
        var partitions = Enumerable.Range(0, 4).Select(p => (P(p), 100L)).ToList();
        var assignment = PageWriters.Assign(partitions, 2);
        var writers = new PageWriters(partitions, 2, decodeAhead: 2, async (page, _) =>
        {
            var (partition, next) = page.NextOffsets.Single();
            var writer = assignment[partition];
            overlapped |= Interlocked.Increment(ref running[writer]) > 1;
            await Task.Yield();
            lock (written)
            {
                (written.TryGetValue(partition, out var list) ? list : written[partition] = []).Add(next);
            }

            Interlocked.Decrement(ref running[writer]);
        }, CancellationToken.None);
        await using (writers)
        {
            for (var offset = 1; offset <= 25; offset++)
            {
                foreach (var (partition, _) in partitions)
                {
                    var next = offset;
                    await writers.EnqueueAsync(writers.WriterOf(partition), () => PageOf(partition, next));
                }
            }

            await writers.CompleteAsync();
        }

        writers.Count.Should().Be(2);
        partitions.Select(p => writers.WriterOf(p.Item1)).Should().Equal(0, 1, 0, 1);
        overlapped.Should().BeFalse();
        written.Should().HaveCount(4);
        written.Values.Should().AllSatisfy(list => list.Should().Equal(Enumerable.Range(1, 25).Select(o => (long)o)));
    }

    [Fact]
    public async Task A_failed_page_stops_the_writers_and_its_error_is_the_one_reported()
    {
        var partitions = new List<(PartitionKey, long)> { (P(0), 10), (P(1), 10) };
        var writers = new PageWriters(partitions, 2, decodeAhead: 1, (page, _) =>
            page.NextOffsets.ContainsKey(P(1)) ? throw new InvalidOperationException("disk full") : Task.CompletedTask, CancellationToken.None);
        await using (writers)
        {
            var act = async () =>
            {
                for (var offset = 1; offset <= 100; offset++)
                {
                    var next = offset;
                    await writers.EnqueueAsync(writers.WriterOf(P(0)), () => PageOf(P(0), next));
                    await writers.EnqueueAsync(writers.WriterOf(P(1)), () => PageOf(P(1), next));
                }

                await writers.CompleteAsync();
            };

            await act.Should().ThrowAsync<InvalidOperationException>().WithMessage("disk full");
        }
    }

    [Fact]
    public void Archive_files_are_read_one_partition_after_the_other_in_turn_each_partition_in_offset_order()
    {
        var zero = new ArchiveManifest { Partition = 0 }
            .Record(ArchiveKeys.File("p", Hour13, 0, 0, 9))
            .Record(ArchiveKeys.File("p", Hour13, 0, 10, 19))
            .Record(ArchiveKeys.File("p", Hour13, 0, 20, 29));
        var one = new ArchiveManifest { Partition = 1 }
            .Record(ArchiveKeys.File("p", Hour13, 1, 0, 9))
            .Record(ArchiveKeys.File("p", Hour13, 1, 10, 19));

        // Partition 0 from offset 12 (its first file is done), up to 30; partition 1 up to 10 (its second file is Kafka's).
        var files = ArchiveReader.FilesInReadOrder([(zero, 12, 30), (one, null, 10)]);

        files.Select(f => (f.Range, f.File.FirstOffset)).Should().Equal((0, 10L), (1, 0L), (0, 20L));
    }

    private static Page PageOf(PartitionKey partition, long next)
    {
        var page = new Page();
        page.NextOffsets[partition] = next;
        return page;
    }
}
