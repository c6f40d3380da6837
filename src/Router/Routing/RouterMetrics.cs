using System.Diagnostics.Metrics;

namespace Messaging.Router.Routing;

/// <summary>Counters of the Router's work (meter <c>Messaging.Router</c>), also readable as totals.</summary>
public sealed class RouterMetrics : IDisposable
{
    public const string MeterName = "Messaging.Router";

    private readonly Meter _meter;
    private readonly Counter<long> _commands;
    private readonly Counter<long> _events;
    private readonly Counter<long> _deliveries;
    private readonly Counter<long> _parked;
    private long _totalCommands;
    private long _totalDeliveries;

    public RouterMetrics(IMeterFactory meters)
    {
        _meter = meters.Create(MeterName);
        _commands = _meter.CreateCounter<long>("router.commands", description: "Commands consumed");
        _events = _meter.CreateCounter<long>("router.events", description: "Events appended to chat.events");
        _deliveries = _meter.CreateCounter<long>("router.deliveries", description: "Records produced to delivery.node-k (routed events and replies)");
        _parked = _meter.CreateCounter<long>("router.parked", description: "Commands parked on the dead-letter topic");
    }

    public long TotalCommands => Interlocked.Read(ref _totalCommands);

    public long TotalDeliveries => Interlocked.Read(ref _totalDeliveries);

    public void Record(BatchOutcome outcome)
    {
        _commands.Add(outcome.Commands);
        _events.Add(outcome.Events);
        _deliveries.Add(outcome.Deliveries + outcome.Replies);
        _parked.Add(outcome.Parked);
        Interlocked.Add(ref _totalCommands, outcome.Commands);
        Interlocked.Add(ref _totalDeliveries, outcome.Deliveries + outcome.Replies);
    }

    public void Dispose() => _meter.Dispose();
}
