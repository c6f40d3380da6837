using System.Text.Json.Serialization;

namespace Messaging.Contracts.Devices;

/// <summary>Records about devices, written by Edge (sessions, registrations, acks).</summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(DeviceSessionChanged), "DeviceSessionChanged")]
[JsonDerivedType(typeof(UserDevicesChanged), "UserDevicesChanged")]
[JsonDerivedType(typeof(DeliveryAcked), "DeliveryAcked")]
public abstract record DeviceRecord
{
    /// <summary>
    /// Schema version of this record. 2: <c>device.sessions</c> and <c>device.acks</c> are keyed by
    /// the device address <c>userId/deviceId</c> (v1: by the bare device id, shared by every user
    /// who chose the same id).
    /// </summary>
    public int V { get; init; } = SchemaVersions.DeviceRecords;
}

/// <summary>
/// <c>device.sessions</c> (compacted, key: the device address <c>userId/deviceId</c>, see
/// <see cref="DeviceRef.Address"/>): where a device is connected.
/// <see cref="Node"/> is null when it went offline. A live session is re-announced before
/// <see cref="LeaseUntil"/>; a session whose lease ran out is treated as offline, so a killed
/// Edge node does not leave its devices "online" forever.
/// </summary>
public sealed record DeviceSessionChanged : DeviceRecord
{
    public required string DeviceId { get; init; }

    public required string UserId { get; init; }

    public int? Node { get; init; }

    public required string SessionId { get; init; }

    public required DateTimeOffset ChangedAt { get; init; }

    public DateTimeOffset? LeaseUntil { get; init; }
}

/// <summary><c>user.devices</c> (compacted, key: user id): the user's registered devices.</summary>
public sealed record UserDevicesChanged : DeviceRecord
{
    public required string UserId { get; init; }

    public required IReadOnlyList<string> DeviceIds { get; init; }

    public required DateTimeOffset ChangedAt { get; init; }
}

/// <summary>
/// <c>device.acks</c> (key: the device address <c>userId/deviceId</c>): the device holds
/// everything in the chat up to <see cref="Seq"/>.
/// </summary>
public sealed record DeliveryAcked : DeviceRecord
{
    public required string DeviceId { get; init; }

    public required string UserId { get; init; }

    public required string ChatId { get; init; }

    public required long Seq { get; init; }

    public required DateTimeOffset AckedAt { get; init; }
}
