using Confluent.Kafka;
using Messaging.Contracts;
using Messaging.Contracts.Devices;
using Messaging.Contracts.Protocol;
using Messaging.Contracts.Serialization;
using Messaging.Contracts.Topics;
using Messaging.Edge.Commands;
using Messaging.Hosting.Kafka;
using Microsoft.Extensions.Options;

namespace Messaging.Edge.Devices;

/// <summary>The Router's answer to a device command (or <c>unavailable</c> when it did not come in time).</summary>
/// <param name="Code">Null when accepted, else an <see cref="ErrorCodes"/> value.</param>
/// <param name="Message">Why, for the client.</param>
internal readonly record struct DeviceCommandOutcome(string? Code, string? Message)
{
    public static readonly DeviceCommandOutcome Accepted = new(null, null);

    public bool IsAccepted => Code is null;

    public static DeviceCommandOutcome Unavailable(string message) => new(ErrorCodes.Unavailable, message);
}

/// <summary>
/// The devices of every user as the Router decided them, read from the compacted
/// <c>user.devices</c> topic (caught up before the node accepts sockets). Edge never writes that
/// topic: a registration or removal is a command on <c>user.commands</c> that the Router decides
/// in order per user, and this node waits for the decision on its delivery topic. Two Edge nodes
/// each doing a read-modify-write of the list used to drop one of two devices registering in the
/// same instant (issue 8: 10 of 10 messages to one, 0 of 10 to the other).
/// </summary>
internal sealed class DeviceDirectory : IHostedService, IAsyncDisposable
{
    private readonly CompactedTopicTable<UserDevicesChanged> _table;
    private readonly DeviceCommandReplies _replies;
    private readonly EdgeProducer _producer;
    private readonly TopicNames _topics;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly int _nodeId;
    private readonly TimeSpan _timeout;
    private int _disposed;

    public DeviceDirectory(KafkaClientFactory clients, EdgeProducer producer, DeviceCommandReplies replies, TopicNames topics, IOptions<EdgeOptions> options, TimeProvider clock, ILogger<DeviceDirectory> logger)
    {
        _producer = producer;
        _replies = replies;
        _topics = topics;
        _clock = clock;
        _logger = logger;
        _nodeId = options.Value.NodeId;
        _timeout = TimeSpan.FromMilliseconds(options.Value.DeviceCommandTimeoutMs);
        _table = new CompactedTopicTable<UserDevicesChanged>(clients, topics.UserDevices, bytes => Codecs.Devices.Decode(bytes).Value as UserDevicesChanged, logger);
    }

    /// <summary>Raised on the table's reader thread when a user's list changed.</summary>
    public event Action<UserDevicesChanged>? ListChanged;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _table.Changed += OnChanged;
        _table.Start();
        await _table.WaitCaughtUpAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The user's latest list as this node has read it, or null.</summary>
    public UserDevicesChanged? ListOf(string userId) => _table.TryGet(userId, out var row) ? row : null;

    /// <summary>
    /// Whether the device is removed for a token issued at <paramref name="tokenIssuedAt"/>: it is
    /// in the removed list and the token is not newer than the removal (the Router's rule).
    /// </summary>
    public bool IsRemoved(DeviceRef device, DateTimeOffset tokenIssuedAt) => DeviceListRules.IsRemoved(ListOf(device.UserId), device.DeviceId, tokenIssuedAt);

    /// <summary>
    /// Makes sure the device is registered before its socket is served: a device in the list
    /// passes at once, a removed one whose token predates the removal is refused at once; any
    /// other asks the Router (<c>RegisterDevice</c>) and waits for its decision.
    /// </summary>
    public Task<DeviceCommandOutcome> EnsureRegisteredAsync(DeviceRef device, DateTimeOffset tokenIssuedAt, CancellationToken cancellationToken)
    {
        var list = ListOf(device.UserId);
        if (DeviceListRules.IsRegistered(list, device.DeviceId))
        {
            return Task.FromResult(DeviceCommandOutcome.Accepted);
        }

        if (DeviceListRules.IsRemoved(list, device.DeviceId, tokenIssuedAt))
        {
            return Task.FromResult(new DeviceCommandOutcome(ErrorCodes.DeviceRemoved, "this device was removed; sign in again to register it"));
        }

        var command = new RegisterDevice
        {
            CommandId = Guid.CreateVersion7().ToString(),
            UserId = device.UserId,
            DeviceId = device.DeviceId,
            OriginNode = _nodeId,
            IssuedAt = _clock.GetUtcNow(),
            TokenIssuedAt = tokenIssuedAt,
        };
        return DecideAsync(command, cancellationToken);
    }

    /// <summary>Asks the Router to remove <paramref name="deviceId"/> of <paramref name="origin"/>'s user, and waits for its decision.</summary>
    public Task<DeviceCommandOutcome> RemoveAsync(DeviceRef origin, string deviceId, string? requestId, CancellationToken cancellationToken)
    {
        var command = new RemoveDevice
        {
            CommandId = Guid.CreateVersion7().ToString(),
            UserId = origin.UserId,
            DeviceId = deviceId,
            Origin = origin,
            OriginNode = _nodeId,
            RequestId = requestId,
            IssuedAt = _clock.GetUtcNow(),
        };
        return DecideAsync(command, cancellationToken);
    }

    private async Task<DeviceCommandOutcome> DecideAsync(DeviceCommand command, CancellationToken cancellationToken)
    {
        var reply = _replies.Expect(command.CommandId);
        try
        {
            try
            {
                await _producer.ProduceAsync(_topics.UserCommands, command.UserId, Codecs.DeviceCommands.Encode(command), cancellationToken);
            }
            catch (Exception ex) when (EdgeProducer.IsUnavailable(ex))
            {
                EdgeLog.ProduceFailed(_logger, ex, _topics.UserCommands);
                return DeviceCommandOutcome.Unavailable("the device list could not be changed; retry");
            }

            try
            {
                var decided = await reply.WaitAsync(_timeout, _clock, cancellationToken);
                if (command is RemoveDevice || decided.Code == ErrorCodes.DeviceRemoved)
                {
                    // This node refuses a removed device's old token over HTTP by its own copy of
                    // user.devices, which the Router wrote before it answered: catch the copy up
                    // before answering, so a request right after the answer is refused too (node 0
                    // once answered 200 in DeviceRegistrationTests). Removals are rare; registrations
                    // that pass do not wait.
                    await CatchUpQuietlyAsync(cancellationToken);
                }

                return new DeviceCommandOutcome(decided.Code, decided.Message);
            }
            catch (TimeoutException)
            {
                // The command is durable and will still be decided; the client retries (registering
                // a known device and removing a removed one are accepted without change).
                EdgeLog.DeviceCommandTimedOut(_logger, command.GetType().Name, command.UserId, command.DeviceId, (int)_timeout.TotalMilliseconds);
                return DeviceCommandOutcome.Unavailable("the device list did not answer in time; retry");
            }
        }
        finally
        {
            _replies.Forget(command.CommandId);
        }
    }

    /// <summary>The decision stands whatever the catch-up does: a broker that does not answer only leaves this node's copy to catch up on its own.</summary>
    private async Task CatchUpQuietlyAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _table.CatchUpAsync(_timeout, cancellationToken);
        }
        catch (Exception ex) when (ex is KafkaException or TimeoutException)
        {
            EdgeLog.DeviceListCatchUpFailed(_logger, ex);
        }
    }

    private void OnChanged(string userId, UserDevicesChanged? list)
    {
        if (list is not null)
        {
            ListChanged?.Invoke(list);
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Registered as a singleton and as a hosted service (same instance): the container
        // disposes it once per registration.
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _table.Changed -= OnChanged;
        await _table.DisposeAsync();
    }
}
