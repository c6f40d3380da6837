namespace Messaging.Router.Chats;

/// <summary>Resolves a user's registered devices (backed by the <c>user.devices</c> table at run time).</summary>
public interface IDeviceLookup
{
    /// <summary>
    /// The addresses (<c>userId/deviceId</c>, <see cref="Messaging.Contracts.DeviceRef.Address"/>) of
    /// the user's devices; empty when the user has none registered. Built once per registration,
    /// not per event: deciding a message allocates no address.
    /// </summary>
    IReadOnlyList<string> AddressesOf(string userId);
}

/// <summary>The limits a chat enforces (from <c>Router:*</c> options, the windows from <c>Chat:*</c>).</summary>
public sealed record ChatLimits(int MaxGroupMembers = 1024, int MaxBodyBytes = 65536, int RecentClientMsgIds = 1000)
{
    /// <summary>How long after sending its sender may edit a message (<c>Chat:EditWindowMinutes</c>); zero turns edits off.</summary>
    public TimeSpan EditWindow { get; init; } = TimeSpan.FromMinutes(ChatOptions.DefaultEditWindowMinutes);

    /// <summary>How long after sending its sender may delete a message for everyone (<c>Chat:DeleteWindowHours</c>); admins of a group at any time.</summary>
    public TimeSpan DeleteWindow { get; init; } = TimeSpan.FromHours(ChatOptions.DefaultDeleteWindowHours);
}

/// <summary>
/// What a decision may depend on besides the state and the command. A struct: one is built per
/// command on the hot path.
/// </summary>
/// <param name="Limits">The chat limits in force.</param>
/// <param name="Devices">User → device addresses, for the recipients of each event.</param>
/// <param name="Now">The time stamped on events (one reading per batch).</param>
/// <param name="CommandOffset">The command's offset in its <c>chat.commands</c> partition, recorded in the state it changes.</param>
public readonly record struct DecideContext(ChatLimits Limits, IDeviceLookup Devices, DateTimeOffset Now, long CommandOffset = -1);
