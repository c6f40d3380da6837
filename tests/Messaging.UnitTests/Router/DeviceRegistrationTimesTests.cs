using Messaging.Contracts.Devices;
using Messaging.Router.Devices;
using static Messaging.UnitTests.Router.DeviceDeciderTests;

namespace Messaging.UnitTests.Router;

/// <summary>Who gets what starts here: the Router records when each device was registered and whether it was a companion.</summary>
public sealed class DeviceRegistrationTimesTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly DeviceLimits Limits = new(MaxDevicesPerUser: 3, MaxRemovedDevicesPerUser: 4);

    [Fact]
    public void A_users_first_device_is_registered_with_its_time_and_is_no_companion()
    {
        var list = DeviceDecider.Decide(null, Register("ana", "phone"), Limits, T0).Changed!;

        list.Registered.Should().Equal(new RegisteredDevice("phone", T0, Companion: false));
        DeviceListRules.TryGetHistoryFrom(list, "phone", out var from).Should().BeTrue();
        from.Should().BeNull("a first device gets everything since the user joined each chat");
    }

    [Fact]
    public void A_device_registered_while_another_is_registered_is_a_companion_starting_at_its_registration()
    {
        var first = DeviceDecider.Decide(null, Register("ana", "phone"), Limits, T0).Changed!;
        var second = DeviceDecider.Decide(first, Register("ana", "laptop"), Limits, T0.AddHours(1)).Changed!;

        second.Registered.Should().Equal(new RegisteredDevice("phone", T0, false), new RegisteredDevice("laptop", T0.AddHours(1), true));
        DeviceListRules.TryGetHistoryFrom(second, "laptop", out var from).Should().BeTrue();
        from.Should().Be(T0.AddHours(1));
    }

    [Fact]
    public void A_known_device_connecting_again_keeps_its_first_registration_time()
    {
        var first = DeviceDecider.Decide(null, Register("ana", "phone"), Limits, T0).Changed!;

        DeviceDecider.Decide(first, Register("ana", "phone"), Limits, T0.AddDays(1)).Changed.Should().BeNull("nothing changed");
        first.Registered.Single().RegisteredAt.Should().Be(T0);
    }

    [Fact]
    public void Removing_a_device_drops_its_entry_and_the_companions_keep_theirs()
    {
        var list = DeviceDecider.Decide(null, Register("ana", "phone"), Limits, T0).Changed!;
        list = DeviceDecider.Decide(list, Register("ana", "laptop"), Limits, T0.AddHours(1)).Changed!;

        var removed = DeviceDecider.Decide(list, Remove("ana", "phone", "laptop", issuedAt: T0.AddHours(2)), Limits, T0.AddHours(2)).Changed!;

        removed.Registered.Should().Equal([new RegisteredDevice("laptop", T0.AddHours(1), true)], "a companion does not become a first device when the first one goes");
    }

    [Fact]
    public void A_device_registered_when_its_user_had_none_left_is_a_first_device_again()
    {
        // The user replaced their only phone: nothing else of theirs holds what was sent meanwhile.
        var list = DeviceDecider.Decide(null, Register("ana", "phone"), Limits, T0).Changed!;
        list = DeviceDecider.Decide(list, Remove("ana", "phone", "phone", issuedAt: T0.AddHours(1)), Limits, T0.AddHours(1)).Changed!;

        var next = DeviceDecider.Decide(list, Register("ana", "new-phone"), Limits, T0.AddHours(2)).Changed!;

        next.Registered.Should().Equal(new RegisteredDevice("new-phone", T0.AddHours(2), Companion: false));
    }

    [Fact]
    public void A_device_listed_without_a_registration_entry_counts_as_a_first_device()
    {
        // A list written before registration times were recorded (an older record).
        var old = new UserDevicesChanged { UserId = "ana", DeviceIds = ["phone", "laptop"], Version = 3, ChangedAt = T0 };

        DeviceListRules.TryGetHistoryFrom(old, "laptop", out var from).Should().BeTrue();
        from.Should().BeNull();
        DeviceDecider.Decide(old, Register("ana", "web"), Limits, T0.AddHours(1)).Changed!.Registered
            .Should().Equal(new RegisteredDevice("web", T0.AddHours(1), Companion: true));
    }

    [Fact]
    public void A_device_not_in_the_list_yet_is_a_companion_from_now_unless_its_user_has_no_devices()
    {
        var list = DeviceDecider.Decide(null, Register("ana", "phone"), Limits, T0).Changed!;

        DeviceListRules.TryGetHistoryFrom(list, "tablet", out _).Should().BeFalse();
        DeviceListRules.HistoryFromOrNew(list, "tablet", T0.AddMinutes(5)).Should().Be(T0.AddMinutes(5));
        DeviceListRules.HistoryFromOrNew(null, "tablet", T0.AddMinutes(5)).Should().BeNull();
        DeviceListRules.HistoryFromOrNew(list, "phone", T0.AddMinutes(5)).Should().BeNull();
    }
}
