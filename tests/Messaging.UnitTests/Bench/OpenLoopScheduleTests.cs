using Messaging.Bench.Load;

namespace Messaging.UnitTests.Bench;

public sealed class OpenLoopScheduleTests
{
    private const long Frequency = 1_000_000_000;

    [Fact]
    public void Message_zero_is_due_at_the_start_and_nothing_before_it()
    {
        var schedule = new OpenLoopSchedule(1000, startTimestamp: 5 * Frequency, Frequency);

        schedule.DueCount(5 * Frequency - 1).Should().Be(0);
        schedule.DueCount(5 * Frequency).Should().Be(1);
    }

    [Fact]
    public void After_one_second_at_a_thousand_per_second_a_thousand_and_one_messages_are_due()
    {
        var schedule = new OpenLoopSchedule(1000, 0, Frequency);

        schedule.DueCount(Frequency - 1).Should().Be(1000);
        schedule.DueCount(Frequency).Should().Be(1001);
    }

    [Fact]
    public void Each_message_is_due_exactly_at_its_intended_time_regardless_of_how_late_the_sender_is()
    {
        var schedule = new OpenLoopSchedule(333, 12_345, Frequency);

        for (long i = 0; i < 10_000; i += 7)
        {
            var intended = schedule.IntendedTimestamp(i);
            schedule.DueCount(intended).Should().Be(i + 1, $"message {i}");
            schedule.DueCount(intended - 1).Should().Be(i, $"just before message {i}");
        }
    }

    [Fact]
    public void Intended_times_are_spaced_by_the_inverse_rate()
    {
        var schedule = new OpenLoopSchedule(4000, 0, Frequency);

        (schedule.IntendedTimestamp(4000) - schedule.IntendedTimestamp(0)).Should().Be(Frequency);
        (schedule.IntendedTimestamp(1) - schedule.IntendedTimestamp(0)).Should().Be(Frequency / 4000);
    }

    [Fact]
    public void A_stalled_sender_finds_every_missed_message_due_at_once()
    {
        var schedule = new OpenLoopSchedule(2000, 0, Frequency);

        // Asleep for 250 ms: the open loop does not slow down, it owes 500 more messages.
        schedule.DueCount(Frequency / 4).Should().Be(501);
    }

    [Fact]
    public void A_window_holds_rate_times_its_length()
    {
        var schedule = new OpenLoopSchedule(250, 0, Frequency);

        schedule.CountFor(TimeSpan.FromSeconds(20)).Should().Be(5000);
    }

    [Fact]
    public void A_rate_of_zero_is_refused()
    {
        var create = () => new OpenLoopSchedule(0, 0, Frequency);

        create.Should().Throw<ArgumentOutOfRangeException>();
    }
}
