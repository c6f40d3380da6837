using System.Diagnostics;

namespace Messaging.Bench.Load;

/// <summary>
/// The timing of an open-loop sender: message i is due at <c>start + i / rate</c> whether or not
/// the system kept up with the previous ones. A closed loop (send, wait, send) slows down with the
/// system and hides queueing; here a late sender catches up in bursts and each message carries its
/// intended time, so a stall shows up as latency instead of as a lower rate (no coordinated omission).
/// </summary>
public readonly record struct OpenLoopSchedule
{
    public OpenLoopSchedule(double messagesPerSecond, long startTimestamp, long timestampFrequency)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(messagesPerSecond);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(timestampFrequency);
        MessagesPerSecond = messagesPerSecond;
        StartTimestamp = startTimestamp;
        TimestampFrequency = timestampFrequency;
    }

    public double MessagesPerSecond { get; }

    /// <summary>When message 0 is due, in <see cref="Stopwatch"/> ticks.</summary>
    public long StartTimestamp { get; }

    public long TimestampFrequency { get; }

    public static OpenLoopSchedule StartingNow(double messagesPerSecond) =>
        new(messagesPerSecond, Stopwatch.GetTimestamp(), Stopwatch.Frequency);

    /// <summary>How many messages are due by <paramref name="nowTimestamp"/> (messages 0..n-1 are due).</summary>
    public long DueCount(long nowTimestamp)
    {
        var elapsed = nowTimestamp - StartTimestamp;
        if (elapsed < 0)
        {
            return 0;
        }

        // Message i is due at i / rate; estimate in floating point, then settle the rounding
        // against IntendedTimestamp so that "due" and "intended" can never disagree by one.
        var count = (long)Math.Floor((double)elapsed * MessagesPerSecond / TimestampFrequency) + 1;
        while (IntendedTimestamp(count) <= nowTimestamp)
        {
            count++;
        }

        while (count > 0 && IntendedTimestamp(count - 1) > nowTimestamp)
        {
            count--;
        }

        return count;
    }

    /// <summary>When message <paramref name="index"/> is due, in <see cref="Stopwatch"/> ticks.</summary>
    public long IntendedTimestamp(long index) =>
        StartTimestamp + (long)Math.Round(index * (double)TimestampFrequency / MessagesPerSecond);

    /// <summary>How many messages a window of <paramref name="window"/> holds at this rate.</summary>
    public long CountFor(TimeSpan window) => (long)Math.Round(window.TotalSeconds * MessagesPerSecond);
}
