using Messaging.Contracts.Events;

namespace Messaging.Bench.Marten;

/// <summary>
/// Which of a page's events for one chat stream to append, given the stream's version. The
/// stream version is the chat's seq, so an event at or below it is a duplicate (the Router may
/// write an event twice after a failover) and is skipped; the next event must be version + 1.
/// </summary>
/// <param name="Append">The events to append, in seq order, each exactly one above the previous.</param>
/// <param name="Duplicates">Events skipped because the stream (or an earlier event of the page) already holds their seq.</param>
/// <param name="ExpectedVersion">The stream's version after the append (Marten's optimistic check).</param>
/// <param name="GapAfter">Set when an event skipped a seq: the version the stream stopped at; the events after it are held back.</param>
public sealed record StreamAppendPlan(IReadOnlyList<ChatEvent> Append, int Duplicates, long ExpectedVersion, long? GapAfter)
{
    public static StreamAppendPlan For(long version, IReadOnlyList<ChatEvent> events)
    {
        var append = new List<ChatEvent>(events.Count);
        var duplicates = 0;
        var current = version;
        for (var i = 0; i < events.Count; i++)
        {
            var seq = events[i].Seq;
            if (seq <= current)
            {
                duplicates++;
                continue;
            }

            if (seq != current + 1)
            {
                return new StreamAppendPlan(append, duplicates, current, current);
            }

            append.Add(events[i]);
            current = seq;
        }

        return new StreamAppendPlan(append, duplicates, current, null);
    }
}
