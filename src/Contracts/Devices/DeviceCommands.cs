using System.Text.Json.Serialization;

namespace Messaging.Contracts.Devices;

/// <summary>
/// A request to change a user's device list, appended by Edge to <c>user.commands</c> (key: user
/// id). The Router decides them in order per user and records the outcome in <c>user.devices</c>,
/// so concurrent registrations on any number of Edge nodes can never overwrite each other.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(RegisterDevice), "RegisterDevice")]
[JsonDerivedType(typeof(RemoveDevice), "RemoveDevice")]
public abstract record DeviceCommand
{
    /// <summary>Schema version of this record.</summary>
    public int V { get; init; } = 1;

    /// <summary>Unique id of the command (Edge assigns it); the reply carries it back.</summary>
    public required string CommandId { get; init; }

    /// <summary>The user whose device list changes (the record key).</summary>
    public required string UserId { get; init; }

    /// <summary>The device registered or removed.</summary>
    public required string DeviceId { get; init; }

    /// <summary>The Edge node waiting for the outcome: the reply is delivered there.</summary>
    public required int OriginNode { get; init; }

    /// <summary>The client's frame id, echoed in the reply.</summary>
    public string? RequestId { get; init; }

    public required DateTimeOffset IssuedAt { get; init; }
}

/// <summary>A device connects: add it to the user's devices (decided against the limit and removals).</summary>
public sealed record RegisterDevice : DeviceCommand
{
    /// <summary>
    /// When the device's token was issued (<c>iat</c>). A removed device is registered again only
    /// with a token issued after its removal: signing in again is the explicit act, an old token
    /// never is.
    /// </summary>
    public required DateTimeOffset TokenIssuedAt { get; init; }
}

/// <summary>A device of the user removes <see cref="DeviceCommand.DeviceId"/> (possibly itself).</summary>
public sealed record RemoveDevice : DeviceCommand
{
    /// <summary>The device that asked for the removal (a device of the same user).</summary>
    public required DeviceRef Origin { get; init; }
}
