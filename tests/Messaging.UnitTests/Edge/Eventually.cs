namespace Messaging.UnitTests.Edge;

/// <summary>Waits for a condition that another thread makes true (a lane, a drain), failing after a timeout.</summary>
internal static class Eventually
{
    public static async Task TrueAsync(Func<bool> condition, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        while (!condition())
        {
            await Task.Delay(5, deadline.Token);
        }
    }
}
