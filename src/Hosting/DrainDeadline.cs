namespace Messaging.Hosting;

/// <summary>
/// The token for the work a stopping service still finishes: cancelled <c>bound</c> after the
/// stop token fires. A consumer loop stops taking new records at the stop signal, but finishes
/// and commits the batch in hand under this token: cancelling it at once (as before 2026-11-26)
/// dropped a Router's last <c>Router:StateFlushMs</c> of decisions uncommitted, so the next owner
/// decided them again and appended their events a second time. The bound must stay under the
/// host's shutdown timeout (<c>HostOptions.ShutdownTimeout</c>, 30 s).
/// </summary>
public sealed class DrainDeadline : IDisposable
{
    private readonly CancellationTokenSource _source = new();
    private readonly CancellationTokenRegistration _registration;

    public DrainDeadline(TimeSpan bound, CancellationToken stopping)
    {
        _registration = stopping.Register(() => _source.CancelAfter(bound));
    }

    public CancellationToken Token => _source.Token;

    public void Dispose()
    {
        _registration.Dispose();
        _source.Dispose();
    }
}
