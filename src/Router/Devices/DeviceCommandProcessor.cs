using Confluent.Kafka;
using Messaging.Contracts.Devices;
using Messaging.Contracts.Serialization;
using Messaging.Contracts.Topics;
using Messaging.Hosting.Kafka;
using Messaging.Router.Routing;

namespace Messaging.Router.Devices;

/// <summary>What one batch of device commands did, and the offsets to commit.</summary>
public sealed record DeviceBatchOutcome(int Commands, int Changed, int Refused, int Parked, IReadOnlyList<TopicPartitionOffset> Offsets);

/// <summary>
/// Decides one batch of <c>user.commands</c> in order. The state of each user is the
/// <c>user.devices</c> table (caught up by the caller before the batch) overlaid with this batch's
/// own decisions. Output order keeps a crash harmless and a reply truthful: (1) one
/// <c>user.devices</c> record per changed user, acknowledged; (2) then the replies to the origin
/// nodes, acknowledged; (3) the caller commits the offsets last. A crash before (3) re-decides the
/// commands against a list that already holds their effect: registering a known device and
/// removing a removed one are accepted without change. Replying only after (1) means a device is
/// told "registered" only once the Router's chat loop can see it among the recipients.
/// </summary>
public sealed partial class DeviceCommandProcessor(TopicNames topics, DeviceLimits limits, int edgeNodes, ILogger logger)
{
    private readonly TopicPartition _userDevices = new(topics.UserDevices, Partition.Any);
    private readonly Dictionary<string, UserDevicesChanged> _changed = new(StringComparer.Ordinal);
    private readonly List<(int Node, string Key, byte[] Value)> _replies = [];

    public DeviceBatchOutcome Process(IReadOnlyList<ConsumeResult<string, byte[]>> batch, Func<string, UserDevicesChanged?> current, IRecordSink sink, DateTimeOffset now, CancellationToken cancellationToken)
    {
        _changed.Clear();
        _replies.Clear();
        int refused = 0, parked = 0;
        for (var i = 0; i < batch.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var record = batch[i];
            var decoded = record.Message.Value is null
                ? new Decoded<DeviceCommand>(DecodeStatus.Malformed, null, null, "null value")
                : Codecs.DeviceCommands.Decode(record.Message.Value);
            if (!decoded.IsOk)
            {
                LogParked(logger, record.Partition.Value, record.Offset.Value, decoded.Status, decoded.Error);
                sink.Park(record, $"{decoded.Status}: {decoded.Error}");
                parked++;
                continue;
            }

            var command = decoded.Value!;
            if (!string.Equals(record.Message.Key, command.UserId, StringComparison.Ordinal))
            {
                // The key decides the partition, and one partition is what orders a user's
                // decisions: a command keyed differently could be decided concurrently with them.
                sink.Park(record, $"key '{record.Message.Key}' differs from userId '{command.UserId}'");
                parked++;
                continue;
            }

            var state = _changed.TryGetValue(command.UserId, out var mine) ? mine : current(command.UserId);
            var decision = DeviceDecider.Decide(state, command, limits, now);
            if (decision.Changed is { } changed)
            {
                _changed[command.UserId] = changed;
            }

            if (decision.Code is not null)
            {
                refused++;
                LogRefused(logger, command.UserId, command.DeviceId, command.GetType().Name, decision.Code);
            }

            if ((uint)command.OriginNode < (uint)edgeNodes)
            {
                _replies.Add((command.OriginNode, command.UserId, Codecs.Deliveries.Encode(decision.Reply)));
            }
            else
            {
                LogBadOriginNode(logger, command.CommandId, command.OriginNode);
            }
        }

        // (1) The decided lists, one record per user however many of its commands the batch held.
        foreach (var (userId, list) in _changed)
        {
            sink.Produce(_userDevices, userId, Codecs.Devices.Encode(list));
        }

        sink.WaitForAcks(cancellationToken);

        // (2) Then the replies: a device hears "accepted" only for what is durable.
        foreach (var (node, key, value) in _replies)
        {
            sink.Produce(new TopicPartition(topics.DeliveryNode(node), Partition.Any), key, value);
        }

        sink.WaitForAcks(cancellationToken);
        var outcome = new DeviceBatchOutcome(batch.Count, _changed.Count, refused, parked, ConsumerBatching.CommitOffsets(batch));
        _changed.Clear();
        _replies.Clear();
        return outcome;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Parked device command at partition {Partition} offset {Offset}: {Status} {Error}")]
    private static partial void LogParked(ILogger logger, int partition, long offset, DecodeStatus status, string? error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Refused {Command} of device {DeviceId} of user {UserId}: {Code}")]
    private static partial void LogRefused(ILogger logger, string userId, string deviceId, string command, string code);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Device command {CommandId} names origin node {OriginNode}, which does not exist: its reply is dropped")]
    private static partial void LogBadOriginNode(ILogger logger, string commandId, int originNode);
}
