using System.Diagnostics;

namespace Messaging.UnitTests.Hosting;

/// <summary>Trace contexts and a span listener for the tests of where a record's <c>traceparent</c> travels.</summary>
internal static class TestTraces
{
    /// <summary>A trace context as a header carries it.</summary>
    public const string InHeader = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    /// <summary>Another, as the field inside a record carries it.</summary>
    public const string InRecord = "00-11111111111111111111111111111111-2222222222222222-01";

    /// <summary>
    /// Records every span of the source named <paramref name="sourceName"/> until disposed. By name,
    /// not by the source object: reading a service's static source inside this callback created it
    /// while the listener was being added, and that source missed the listener (the first test failed).
    /// </summary>
    public static ActivityListener Listen(string sourceName, Action<Activity>? stopped = null)
    {
        var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == sourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped,
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }
}
