using Messaging.Contracts;
using Messaging.Contracts.Devices;
using Messaging.Contracts.Protocol;
using Messaging.Router.Devices;

namespace Messaging.UnitTests.Router;

public sealed class DeviceDeciderTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly DeviceLimits Limits = new(MaxDevicesPerUser: 3, MaxRemovedDevicesPerUser: 4);
    private static int _ids;

    internal static RegisterDevice Register(string user, string device, DateTimeOffset? tokenIssuedAt = null, int node = 2) => new()
    {
        CommandId = "c" + Interlocked.Increment(ref _ids),
        UserId = user,
        DeviceId = device,
        OriginNode = node,
        RequestId = "r1",
        IssuedAt = T0,
        TokenIssuedAt = tokenIssuedAt ?? T0,
    };

    internal static RemoveDevice Remove(string user, string device, string byDevice, string? byUser = null, DateTimeOffset? issuedAt = null) => new()
    {
        CommandId = "c" + Interlocked.Increment(ref _ids),
        UserId = user,
        DeviceId = device,
        Origin = new DeviceRef(byUser ?? user, byDevice),
        OriginNode = 1,
        IssuedAt = issuedAt ?? T0,
    };

    private static UserDevicesChanged Devices(string user, params string[] devices) =>
        new() { UserId = user, DeviceIds = devices, Version = 4, ChangedAt = T0 };

    [Fact]
    public void Registering_a_users_first_device_creates_the_list_at_version_1()
    {
        var decision = DeviceDecider.Decide(null, Register("ana", "phone"), Limits, T0);

        decision.Code.Should().BeNull();
        decision.Changed!.DeviceIds.Should().Equal("phone");
        decision.Changed.Version.Should().Be(1);
        decision.Changed.V.Should().Be(2);
        decision.Changed.ChangedAt.Should().Be(T0);
        decision.Reply.Devices.Should().Equal("ana/phone");
        decision.Reply.RequestId.Should().Be("r1");
    }

    [Fact]
    public void Registering_a_known_device_is_accepted_and_changes_nothing()
    {
        var decision = DeviceDecider.Decide(Devices("ana", "phone", "web"), Register("ana", "web"), Limits, T0);

        decision.Code.Should().BeNull();
        decision.Changed.Should().BeNull();
    }

    [Fact]
    public void Registering_a_new_device_appends_it_and_bumps_the_version()
    {
        var decision = DeviceDecider.Decide(Devices("ana", "phone"), Register("ana", "web"), Limits, T0.AddSeconds(1));

        decision.Changed!.DeviceIds.Should().Equal("phone", "web");
        decision.Changed.Version.Should().Be(5);
        decision.Changed.ChangedAt.Should().Be(T0.AddSeconds(1));
    }

    [Fact]
    public void Registering_a_new_device_at_the_limit_is_refused_too_many_devices()
    {
        var decision = DeviceDecider.Decide(Devices("ana", "a", "b", "c"), Register("ana", "d"), Limits, T0);

        decision.Code.Should().Be(ErrorCodes.TooManyDevices);
        decision.Reply.Message.Should().Contain("3");
        decision.Changed.Should().BeNull();
    }

    [Fact]
    public void Registering_a_known_device_at_the_limit_is_still_accepted()
    {
        DeviceDecider.Decide(Devices("ana", "a", "b", "c"), Register("ana", "b"), Limits, T0).Code.Should().BeNull();
    }

    [Theory]
    [InlineData("", "phone")]
    [InlineData("ana/x", "phone")]
    [InlineData("ana:x", "phone")]
    [InlineData("ana", "")]
    [InlineData("ana", "ph/one")]
    [InlineData("ana", "ph one")]
    [InlineData("ana", "ph\0one")]
    public void Invalid_ids_are_refused_bad_frame(string user, string device)
    {
        var decision = DeviceDecider.Decide(null, Register(user, device), Limits, T0);

        decision.Code.Should().Be(ErrorCodes.BadFrame);
        decision.Changed.Should().BeNull();
    }

    [Fact]
    public void A_device_id_of_the_longest_allowed_length_registers_and_one_longer_is_refused()
    {
        DeviceDecider.Decide(null, Register("ana", new string('d', Ids.MaxLength)), Limits, T0).Code.Should().BeNull();
        DeviceDecider.Decide(null, Register("ana", new string('d', Ids.MaxLength + 1)), Limits, T0).Code.Should().Be(ErrorCodes.BadFrame);
    }

    [Fact]
    public void Removing_a_device_moves_it_to_the_removed_list_with_when()
    {
        var removedAt = T0.AddMinutes(5);

        var decision = DeviceDecider.Decide(Devices("ana", "phone", "web"), Remove("ana", "web", byDevice: "phone"), Limits, removedAt);

        decision.Code.Should().BeNull();
        decision.Changed!.DeviceIds.Should().Equal("phone");
        decision.Changed.Removed.Should().Equal(new RemovedDevice("web", removedAt));
        decision.Changed.Version.Should().Be(5);
        decision.Reply.Devices.Should().Equal(["ana/phone"], "the device that asked for the removal waits for the reply");
    }

    [Fact]
    public void A_device_may_remove_itself()
    {
        var decision = DeviceDecider.Decide(Devices("ana", "phone", "web"), Remove("ana", "web", byDevice: "web"), Limits, T0);

        decision.Changed!.DeviceIds.Should().Equal("phone");
        decision.Reply.Devices.Should().Equal("ana/web");
    }

    [Fact]
    public void Removing_a_removed_device_again_is_accepted_and_changes_nothing()
    {
        var state = DeviceDecider.Decide(Devices("ana", "phone", "web"), Remove("ana", "web", "phone"), Limits, T0).Changed;

        var again = DeviceDecider.Decide(state, Remove("ana", "web", "phone"), Limits, T0.AddHours(1));

        again.Code.Should().BeNull();
        again.Changed.Should().BeNull("a retried removal (issued before the removal it finds) changes nothing");
    }

    [Fact]
    public void Removing_a_removed_device_again_later_moves_the_removal_so_tokens_issued_in_between_are_refused()
    {
        var first = T0.AddMinutes(1);
        var state = DeviceDecider.Decide(Devices("ana", "phone", "web"), Remove("ana", "web", "phone", issuedAt: first), Limits, first).Changed;
        var signedInAgain = first.AddMinutes(1);
        var second = first.AddMinutes(2);

        var again = DeviceDecider.Decide(state, Remove("ana", "web", "phone", issuedAt: second), Limits, second);

        again.Code.Should().BeNull();
        again.Changed!.Removed.Should().Equal(new RemovedDevice("web", second));
        DeviceDecider.Decide(again.Changed, Register("ana", "web", tokenIssuedAt: signedInAgain), Limits, second.AddMinutes(1)).Code.Should().Be(ErrorCodes.DeviceRemoved);
    }

    [Fact]
    public void Removing_a_device_never_registered_keeps_its_old_token_out()
    {
        var state = DeviceDecider.Decide(Devices("ana", "phone"), Remove("ana", "lost", "phone"), Limits, T0.AddMinutes(1)).Changed!;

        state.DeviceIds.Should().Equal("phone");
        DeviceDecider.Decide(state, Register("ana", "lost", tokenIssuedAt: T0), Limits, T0.AddMinutes(2)).Code.Should().Be(ErrorCodes.DeviceRemoved);
    }

    [Fact]
    public void Removing_a_device_of_another_user_is_refused_bad_frame()
    {
        var decision = DeviceDecider.Decide(Devices("ana", "phone"), Remove("ana", "phone", byDevice: "phone", byUser: "bo"), Limits, T0);

        decision.Code.Should().Be(ErrorCodes.BadFrame);
        decision.Changed.Should().BeNull();
    }

    [Fact]
    public void A_removed_device_cannot_remove_others()
    {
        var state = DeviceDecider.Decide(Devices("ana", "phone", "web"), Remove("ana", "web", "phone"), Limits, T0).Changed;

        var decision = DeviceDecider.Decide(state, Remove("ana", "phone", byDevice: "web"), Limits, T0.AddSeconds(1));

        decision.Code.Should().Be(ErrorCodes.DeviceRemoved);
        decision.Changed.Should().BeNull();
    }

    [Fact]
    public void Registering_a_removed_device_with_a_token_issued_before_the_removal_is_refused_device_removed()
    {
        var removedAt = T0.AddMinutes(10);
        var state = DeviceDecider.Decide(Devices("ana", "phone", "web"), Remove("ana", "web", "phone"), Limits, removedAt).Changed;

        DeviceDecider.Decide(state, Register("ana", "web", tokenIssuedAt: T0), Limits, removedAt.AddMinutes(1)).Code.Should().Be(ErrorCodes.DeviceRemoved);
        DeviceDecider.Decide(state, Register("ana", "web", tokenIssuedAt: removedAt), Limits, removedAt.AddMinutes(1)).Code
            .Should().Be(ErrorCodes.DeviceRemoved, "a token issued at the instant of the removal is not after it");
    }

    [Fact]
    public void Registering_a_removed_device_with_a_token_issued_after_the_removal_registers_it_again()
    {
        var removedAt = T0.AddMinutes(10);
        var state = DeviceDecider.Decide(Devices("ana", "phone", "web"), Remove("ana", "web", "phone"), Limits, removedAt).Changed;

        var decision = DeviceDecider.Decide(state, Register("ana", "web", tokenIssuedAt: removedAt.AddSeconds(1)), Limits, removedAt.AddMinutes(1));

        decision.Code.Should().BeNull();
        decision.Changed!.DeviceIds.Should().Equal("phone", "web");
        decision.Changed.Removed.Should().BeEmpty();
    }

    [Fact]
    public void A_removed_device_signing_in_again_still_counts_against_the_limit()
    {
        var state = DeviceDecider.Decide(Devices("ana", "a", "b", "c"), Remove("ana", "c", "a"), Limits, T0).Changed;
        state = DeviceDecider.Decide(state, Register("ana", "d"), Limits, T0.AddSeconds(1)).Changed;

        DeviceDecider.Decide(state, Register("ana", "c", tokenIssuedAt: T0.AddHours(1)), Limits, T0.AddHours(1)).Code.Should().Be(ErrorCodes.TooManyDevices);
    }

    [Fact]
    public void The_removed_list_keeps_only_the_most_recent_removals()
    {
        UserDevicesChanged? state = Devices("ana", "phone");
        for (var i = 0; i < 6; i++)
        {
            state = DeviceDecider.Decide(state, Remove("ana", "old" + i, "phone"), Limits, T0.AddMinutes(i)).Changed;
        }

        state!.Removed.Select(r => r.DeviceId).Should().Equal("old2", "old3", "old4", "old5");
    }

    [Fact]
    public void A_device_is_removed_only_for_a_token_not_issued_after_the_removal()
    {
        var state = Devices("ana", "phone") with { Removed = [new RemovedDevice("web", T0)] };

        DeviceListRules.IsRemoved(state, "web", T0.AddSeconds(-1)).Should().BeTrue();
        DeviceListRules.IsRemoved(state, "web", T0).Should().BeTrue();
        DeviceListRules.IsRemoved(state, "web", T0.AddSeconds(1)).Should().BeFalse();
        DeviceListRules.IsRemoved(state, "phone", T0).Should().BeFalse();
        DeviceListRules.IsRemoved(null, "web", T0).Should().BeFalse();
    }

    [Fact]
    public void A_state_of_another_user_is_a_caller_bug()
    {
        var act = () => DeviceDecider.Decide(Devices("bo", "phone"), Register("ana", "phone"), Limits, T0);

        act.Should().Throw<ArgumentException>();
    }
}

/// <summary>
/// Property tests over random register/remove sequences of one user (seeded <see cref="Random"/>, as
/// in <see cref="ChatDeciderPropertyTests"/>: a failure names its seed and step). After every step
/// the list is checked against a model that applies the rules directly.
/// </summary>
public sealed class DeviceDeciderPropertyTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [MemberData(nameof(ChatDeciderPropertyTests.Seeds), MemberType = typeof(ChatDeciderPropertyTests))]
    public void Random_register_and_remove_sequences_keep_the_device_list_invariant(int seed)
    {
        var random = new Random(seed);
        var limits = new DeviceLimits(MaxDevicesPerUser: 1 + random.Next(5), MaxRemovedDevicesPerUser: 1 + random.Next(6));
        UserDevicesChanged? state = null;
        var version = 0L;
        var now = T0;
        for (var step = 0; step < 60; step++)
        {
            now = now.AddSeconds(random.Next(0, 3));
            var device = "d" + random.Next(8);
            DeviceCommand command = random.Next(3) switch
            {
                0 => DeviceDeciderTests.Remove("ana", device, byDevice: state is { DeviceIds.Count: > 0 } s ? s.DeviceIds[random.Next(s.DeviceIds.Count)] : "d0", issuedAt: now),
                _ => DeviceDeciderTests.Register("ana", device, tokenIssuedAt: now.AddSeconds(-random.Next(0, 6))),
            };
            var before = state;
            var decision = DeviceDecider.Decide(state, command, limits, now);
            var why = $"seed {seed} step {step}: {command}";

            // Model: what the rules say should happen.
            var devices = before?.DeviceIds ?? [];
            if (command is RegisterDevice register)
            {
                var expected = devices.Contains(register.DeviceId) ? null
                    : DeviceListRules.IsRemoved(before, register.DeviceId, register.TokenIssuedAt) ? ErrorCodes.DeviceRemoved
                    : devices.Count >= limits.MaxDevicesPerUser ? ErrorCodes.TooManyDevices
                    : null;
                decision.Code.Should().Be(expected, why);
                if (expected is null && !devices.Contains(register.DeviceId))
                {
                    decision.Changed!.DeviceIds.Should().Contain(register.DeviceId, why);
                }
            }
            else if (decision.Code is null && decision.Changed is { } after)
            {
                after.DeviceIds.Should().NotContain(command.DeviceId, why);
                after.Removed.Should().Contain(new RemovedDevice(command.DeviceId, now), why);
            }

            decision.Reply.CommandId.Should().Be(command.CommandId, why);
            if (decision.Changed is { } changed)
            {
                (decision.Code is null).Should().BeTrue(why + ": only an accepted command changes the list");
                changed.Version.Should().Be(++version, why + ": the version grows by one per change");
                state = changed;
            }

            // Invariants of every state.
            if (state is not null)
            {
                state.DeviceIds.Count.Should().BeLessThanOrEqualTo(limits.MaxDevicesPerUser, why);
                state.DeviceIds.Should().OnlyHaveUniqueItems(why);
                state.Removed.Select(r => r.DeviceId).Should().OnlyHaveUniqueItems(why);
                state.Removed.Count.Should().BeLessThanOrEqualTo(limits.MaxRemovedDevicesPerUser, why);
                state.DeviceIds.Should().NotIntersectWith(state.Removed.Select(r => r.DeviceId), why);
            }
        }
    }

    [Fact]
    public void Concurrent_registrations_decided_in_order_land_exactly_up_to_the_limit()
    {
        var limits = new DeviceLimits(MaxDevicesPerUser: 6);
        UserDevicesChanged? state = null;
        var codes = new List<string?>();
        for (var i = 0; i < 7; i++)
        {
            var decision = DeviceDecider.Decide(state, DeviceDeciderTests.Register("ana", "d" + i), limits, T0);
            codes.Add(decision.Code);
            state = decision.Changed ?? state;
        }

        state!.DeviceIds.Should().HaveCount(6);
        codes.Should().Equal(null, null, null, null, null, null, ErrorCodes.TooManyDevices);
    }
}
