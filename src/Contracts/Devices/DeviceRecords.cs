using System.Text.Json.Serialization;

namespace Messaging.Contracts.Devices;

/// <summary>Records about devices, written by Edge (sessions, registrations, acks).</summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(DeviceSessionChanged), "DeviceSessionChanged")]
[JsonDerivedType(typeof(UserDevicesChanged), "UserDevicesChanged")]
[JsonDerivedType(typeof(DeliveryAcked), "DeliveryAcked")]
[JsonDerivedType(typeof(UserSettingsChanged), "UserSettingsChanged")]
[JsonDerivedType(typeof(DeliveriesAcked), "DeliveriesAcked")]
[JsonDerivedType(typeof(EdgeNodeLeased), "EdgeNodeLeased")]
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
/// <see cref="Node"/> is null when it went offline. A session with an <see cref="Incarnation"/> lives
/// as long as that run of its node holds its lease (<see cref="EdgeNodeLeased"/>); one without
/// (or whose node's lease is not known yet) until its own <see cref="LeaseUntil"/>. Either way a
/// killed Edge node does not leave its devices "online" forever (<see cref="SessionRules"/>).
/// </summary>
public sealed record DeviceSessionChanged : DeviceRecord
{
    public required string DeviceId { get; init; }

    public required string UserId { get; init; }

    public int? Node { get; init; }

    public required string SessionId { get; init; }

    public required DateTimeOffset ChangedAt { get; init; }

    public DateTimeOffset? LeaseUntil { get; init; }

    /// <summary>
    /// The run of <see cref="Node"/> that announced the session (<see cref="EdgeNodeLeased.Incarnation"/>).
    /// Absent in records of nodes that renew every session themselves (before 2026-11-27).
    /// </summary>
    public string? Incarnation { get; init; }
}

/// <summary>
/// <c>device.sessions</c>, key <c>edge-node:{k}</c> (<see cref="SessionRules.NodeLeaseKey"/>; never a
/// device address, which holds a '/'): Edge node <see cref="Node"/>, in its run
/// <see cref="Incarnation"/>, is alive until <see cref="LeaseUntil"/>. Renewed every third of the
/// lease, it keeps every session that run announced online: one record per node instead of one per
/// socket, whose renewals (2,048 records/s in groups of 1,024, each read by the Router, every Edge
/// node and Projections) cost ~15 % of the servers' CPU per copy there (docs/benchmarks.md,
/// seventeenth session).
/// </summary>
public sealed record EdgeNodeLeased : DeviceRecord
{
    public required int Node { get; init; }

    /// <summary>Unique per start of the node process: sessions of an earlier run are not kept alive by this one.</summary>
    public required string Incarnation { get; init; }

    public required DateTimeOffset RenewedAt { get; init; }

    public required DateTimeOffset LeaseUntil { get; init; }
}

/// <summary>
/// <c>user.devices</c> (compacted, key: user id): the user's device list as the Router decided it
/// from <c>user.commands</c>, in order per user. v2 adds <see cref="Removed"/> and
/// <see cref="Version"/>; a v1 record reads as version 0 with nothing removed.
/// </summary>
public sealed record UserDevicesChanged : DeviceRecord
{
    public required string UserId { get; init; }

    /// <summary>The registered devices: they receive the user's messages.</summary>
    public required IReadOnlyList<string> DeviceIds { get; init; }

    /// <summary>Devices removed with <c>device.remove</c>, refused until their user signs them in again.</summary>
    public IReadOnlyList<RemovedDevice> Removed
    {
        get;

        // The source-generated reader assigns every init-only property, absent ones as null (a v1 record).
        init => field = value ?? [];
    }

    = [];

    /// <summary>
    /// When each registered device was registered and whether it was a companion (another device
    /// of the user was registered then): who gets what (docs/protocol.md). A device of
    /// <see cref="DeviceIds"/> without an entry was registered before these were recorded and
    /// counts as a first device. Absent in older records (read as empty).
    /// </summary>
    public IReadOnlyList<RegisteredDevice> Registered
    {
        get;

        init => field = value ?? [];
    }

    = [];

    /// <summary>Per-user version: 1 for the user's first decision, +1 for each change.</summary>
    public long Version { get; init; }

    public required DateTimeOffset ChangedAt { get; init; }
}

/// <summary>
/// A registered device, when the Router registered it (kept while the device stays registered;
/// removed and signed in again, it is registered anew), and whether another device of its user
/// was registered at that moment.
/// </summary>
public sealed record RegisteredDevice(string DeviceId, DateTimeOffset RegisteredAt, bool Companion);

/// <summary>A removed device and when it was removed: only a token issued after that registers it again.</summary>
public sealed record RemovedDevice(string DeviceId, DateTimeOffset RemovedAt);

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

    /// <summary>The same ack as one entry of a <see cref="DeliveriesAcked"/>: readers of both record types handle one shape.</summary>
    public DeviceAck AsAck() => new() { UserId = UserId, DeviceId = DeviceId, ChatId = ChatId, Seq = Seq, AckedAt = AckedAt };
}

/// <summary>
/// <c>device.acks</c> (key: the address of the batch's first device; cursors only grow, so which
/// partition an ack lands in does not matter): the acks one Edge node received within
/// <c>Edge:AckBatchMs</c>, each as a <see cref="DeliveryAcked"/> would say it. One record per
/// batch instead of one per ack: in groups of 1,024 every copy is acked, and a record per ack
/// was a produce in Edge, a record in the broker and two decodes in Projections per copy
/// (docs/benchmarks.md, "Acks in batches"). Readers take both record types.
/// </summary>
public sealed record DeliveriesAcked : DeviceRecord
{
    public required IReadOnlyList<DeviceAck> Acks { get; init; }
}

/// <summary>One ack of a <see cref="DeliveriesAcked"/>: the device holds everything in the chat up to <see cref="Seq"/>.</summary>
public sealed record DeviceAck
{
    public required string UserId { get; init; }

    public required string DeviceId { get; init; }

    public required string ChatId { get; init; }

    public required long Seq { get; init; }

    public required DateTimeOffset AckedAt { get; init; }
}
