using System.Text.Json.Serialization;

namespace Messaging.Contracts;

/// <summary>
/// A user's device: the unit that receives messages and acknowledges them. A device id is
/// unique only within its user (two users may both call their device <c>phone</c>), so a device
/// is always identified by the pair, and where one string must name it (topic keys, recipient
/// lists, node deliveries, dictionary keys) by its <see cref="Address"/> <c>userId/deviceId</c>,
/// like an XMPP full JID. <see cref="Ids"/> forbids '/' in user ids, so the first '/' splits an
/// address unambiguously.
/// </summary>
public sealed record DeviceRef(string UserId, string DeviceId)
{
    public const char Separator = '/';

    /// <summary><c>userId/deviceId</c>: the one string form of a device (derived, so not on the wire).</summary>
    [JsonIgnore]
    public string Address => AddressOf(UserId, DeviceId);

    public static string AddressOf(string userId, string deviceId) => string.Concat(userId, "/", deviceId);

    /// <summary>Splits an address at its first '/'; false for a bare device id (a v1 record) or an empty part.</summary>
    public static bool TryParse(string? address, out DeviceRef device)
    {
        var slash = address is null ? -1 : address.IndexOf(Separator, StringComparison.Ordinal);
        if (slash <= 0 || slash == address!.Length - 1)
        {
            device = null!;
            return false;
        }

        device = new DeviceRef(address[..slash], address[(slash + 1)..]);
        return true;
    }

    /// <summary>The user part of an address without allocating, or an empty span for a bare id.</summary>
    public static ReadOnlySpan<char> UserOf(string address)
    {
        var slash = address.IndexOf(Separator, StringComparison.Ordinal);
        return slash <= 0 ? [] : address.AsSpan(0, slash);
    }

    public override string ToString() => Address;
}
