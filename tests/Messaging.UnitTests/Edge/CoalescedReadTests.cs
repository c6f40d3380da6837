using Messaging.Edge.Sync;

namespace Messaging.UnitTests.Edge;

public sealed class CoalescedReadTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Callers_waiting_together_share_one_read()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var reads = 0;
        var coalesced = new CoalescedRead<int>(async _ =>
        {
            var n = Interlocked.Increment(ref reads);
            await gate.Task;
            return n;
        });

        var first = coalesced.NextAsync();
        await WaitUntilAsync(() => Volatile.Read(ref reads) == 1);
        // Asked while read 1 is in flight: answered together by read 2, never by read 1.
        var waiting = Enumerable.Range(0, 100).Select(_ => coalesced.NextAsync()).ToArray();
        gate.SetResult();

        (await first.WaitAsync(Wait)).Should().Be(1);
        (await Task.WhenAll(waiting).WaitAsync(Wait)).Should().OnlyContain(n => n == 2);
        reads.Should().Be(2);
    }

    [Fact]
    public async Task A_caller_never_gets_a_value_read_before_it_asked()
    {
        var value = 0;
        var coalesced = new CoalescedRead<int>(_ => Task.FromResult(Volatile.Read(ref value)));

        (await coalesced.NextAsync().WaitAsync(Wait)).Should().Be(0);
        Volatile.Write(ref value, 7);

        (await coalesced.NextAsync().WaitAsync(Wait)).Should().Be(7);
    }

    [Fact]
    public async Task A_failed_read_fails_its_callers_and_the_next_round_reads_again()
    {
        var calls = 0;
        var coalesced = new CoalescedRead<int>(_ => Interlocked.Increment(ref calls) == 1 ? throw new TimeoutException("broker") : Task.FromResult(5));

        var failed = () => coalesced.NextAsync().WaitAsync(Wait);

        await failed.Should().ThrowAsync<TimeoutException>();
        (await coalesced.NextAsync().WaitAsync(Wait)).Should().Be(5);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(Wait);
        while (!condition())
        {
            await Task.Delay(1, timeout.Token);
        }
    }
}
