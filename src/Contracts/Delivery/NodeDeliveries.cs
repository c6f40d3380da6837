using System.Text.Json.Serialization;
using Messaging.Contracts.Events;

namespace Messaging.Contracts.Delivery;

/// <summary>
/// A record on <c>delivery.node-k</c>: the Router tells Edge node k what to push to which of its
/// local devices. One record per node per event, carrying the addresses of that node's devices,
/// so fan-out to the broker is O(nodes), not O(devices).
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(EventRouted), "EventRouted")]
[JsonDerivedType(typeof(CommandRejected), "CommandRejected")]
[JsonDerivedType(typeof(DuplicateSendIgnored), "DuplicateSendIgnored")]
[JsonDerivedType(typeof(DeviceCommandDecided), "DeviceCommandDecided")]
[JsonDerivedType(typeof(ReceiptsRouted), "ReceiptsRouted")]
[JsonDerivedType(typeof(TypingRouted), "TypingRouted")]
public abstract record NodeDelivery
{
    /// <summary>Schema version of this record. 2: <see cref="Devices"/> (addresses) replaced v1's <c>deviceIds</c>.</summary>
    public int V { get; init; } = SchemaVersions.NodeDeliveries;

    /// <summary>The devices on this node the record is for, as addresses <c>userId/deviceId</c> (<see cref="DeviceRef.Address"/>).</summary>
    public required IReadOnlyList<string> Devices { get; init; }
}

/// <summary>Push this chat event to the listed devices.</summary>
public sealed record EventRouted : NodeDelivery
{
    public required ChatEvent Event { get; init; }

    /// <summary>
    /// When Edge accepted the command that caused <see cref="Event"/> (the command's <c>issuedAt</c>),
    /// for the per-hop latency breakdown (docs/benchmarks.md). Optional: absent in records written
    /// before it existed and whenever unknown.
    /// </summary>
    public DateTimeOffset? AcceptedAt { get; init; }
}

/// <summary>The Router refused a command: only the issuing device hears of it.</summary>
public sealed record CommandRejected : NodeDelivery
{
    public required string ChatId { get; init; }

    public required string CommandId { get; init; }

    public string? RequestId { get; init; }

    /// <summary>A stable code from <see cref="Protocol.ErrorCodes"/>.</summary>
    public required string Code { get; init; }

    public required string Message { get; init; }

    /// <summary>With <c>device_list_changed</c>: the chat's current device addresses, for the client to encrypt for.</summary>
    public IReadOnlyList<string>? CurrentDevices { get; init; }
}

/// <summary>A retried send the chat already holds: tells the sender the original position.</summary>
public sealed record DuplicateSendIgnored : NodeDelivery
{
    public required string ChatId { get; init; }

    public required string ClientMsgId { get; init; }

    public string? RequestId { get; init; }

    public required long Seq { get; init; }

    public required string MessageId { get; init; }
}

/// <summary>
/// The Router's decision on a <c>user.commands</c> command, for the Edge node that appended it
/// (matched there by <see cref="CommandId"/>); <see cref="NodeDelivery.Devices"/> holds the
/// address of the device the command was for (the registering device, or the one asking for a removal).
/// </summary>
public sealed record DeviceCommandDecided : NodeDelivery
{
    public required string CommandId { get; init; }

    public string? RequestId { get; init; }

    /// <summary>Null when the command was accepted, else a stable code from <see cref="Protocol.ErrorCodes"/>.</summary>
    public string? Code { get; init; }

    public string? Message { get; init; }

    public bool Accepted => Code is null;
}
