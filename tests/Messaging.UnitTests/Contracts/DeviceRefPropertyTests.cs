using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Messaging.Contracts;

namespace Messaging.UnitTests.Contracts;

/// <summary>The address form of a device, for any ids FsCheck makes up (not only the examples we thought of).</summary>
public sealed class DeviceRefPropertyTests
{
    [Property(MaxTest = 500)]
    public Property An_address_parses_back_to_the_same_user_and_device(NonEmptyString user, NonEmptyString device)
    {
        // Ids forbid '/' in user ids (Ids); a device id may hold anything.
        var userId = user.Get.Replace("/", "", StringComparison.Ordinal);
        var deviceId = device.Get;
        Func<bool> roundTrip = () =>
            DeviceRef.TryParse(DeviceRef.AddressOf(userId, deviceId), out var parsed)
            && parsed == new DeviceRef(userId, deviceId)
            && DeviceRef.UserOf(parsed.Address).SequenceEqual(userId);
        return Prop.When(roundTrip, userId.Length > 0);
    }

    [Property(MaxTest = 500)]
    public bool A_string_without_a_separator_is_never_an_address(string? text)
    {
        var bare = text?.Replace("/", "", StringComparison.Ordinal);
        return !DeviceRef.TryParse(bare, out _) && DeviceRef.UserOf(bare ?? "").IsEmpty;
    }
}
