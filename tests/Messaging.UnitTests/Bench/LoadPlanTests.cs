using Messaging.Bench.Load;

namespace Messaging.UnitTests.Bench;

public sealed class LoadPlanTests
{
    [Fact]
    public void Group_fanout_puts_every_user_in_one_group_and_alternates_edge_nodes()
    {
        var plan = LoadPlan.Create(Scenario.GroupFanout, users: 1000, groupSize: 10, edges: 2, "t");

        plan.Chats.Should().HaveCount(100);
        plan.Chats.Should().OnlyContain(c => c.Members.Count == 10 && !c.IsDirect);
        plan.Memberships.Should().OnlyContain(m => m.Length == 1);
        plan.Devices[0].Edge.Should().Be(0);
        plan.Devices[1].Edge.Should().Be(1);
        plan.Chats[0].Members.Select(m => plan.Devices[m].Edge).Distinct().Should().HaveCount(2, "every message crosses Edge nodes");
        plan.SendSlots.Should().HaveCount(1000);
    }

    [Fact]
    public void With_two_devices_per_user_a_group_holds_both_devices_of_each_member_on_different_nodes()
    {
        var plan = LoadPlan.Create(Scenario.GroupFanout, users: 2048, groupSize: 1024, edges: 2, "t", devicesPerUser: 2);

        plan.Devices.Should().HaveCount(4096);
        plan.Chats.Should().HaveCount(2);
        plan.Chats.Should().OnlyContain(c => c.Members.Count == 2048);
        plan.Devices[0].UserId.Should().Be(plan.Devices[1].UserId);
        (plan.Devices[0].DeviceId, plan.Devices[1].DeviceId).Should().Be(("t-u0-d0", "t-u0-d1"));
        (plan.Devices[0].Edge, plan.Devices[1].Edge).Should().Be((0, 1));
        plan.Chats[0].Members.Select(m => plan.Devices[m].UserId).Distinct().Should().HaveCount(1024);
        plan.SendSlots.Should().HaveCount(4096);
    }

    [Fact]
    public void A_lone_leftover_user_joins_the_last_group()
    {
        var plan = LoadPlan.Create(Scenario.GroupFanout, users: 21, groupSize: 10, edges: 2, "t");

        plan.Chats.Should().HaveCount(2);
        plan.Chats[1].Members.Should().HaveCount(11);
    }

    [Fact]
    public void Offline_catchup_gives_each_group_a_sender_of_its_own_so_every_user_can_go_offline()
    {
        var plan = LoadPlan.Create(Scenario.OfflineCatchup, users: 1000, groupSize: 10, edges: 2, "t", separateSenders: true);

        plan.Devices.Should().HaveCount(1100);
        plan.Chats.Should().HaveCount(100);
        plan.Chats.Should().OnlyContain(c => c.Members.Count == 11 && c.Members[0] >= 1000, "the sender comes first (it creates the group), the 10 users after it");
        plan.Chats.SelectMany(c => c.Members.Skip(1)).Should().BeEquivalentTo(Enumerable.Range(0, 1000), "all 1,000 users are receivers");
        (plan.Devices[1000].UserId, plan.Devices[1000].DeviceId).Should().Be(("t-s0", "t-s0-d0"));
        plan.Devices[1001].Edge.Should().NotBe(plan.Devices[1000].Edge);
    }

    [Fact]
    public void Direct_chats_form_a_ring_so_each_user_is_in_two()
    {
        var plan = LoadPlan.Create(Scenario.Direct, users: 4, groupSize: 10, edges: 2, "t");

        plan.Chats.Select(c => string.Join('-', c.Members)).Should().Equal("0-1", "1-2", "2-3", "3-0");
        plan.Memberships.Should().OnlyContain(m => m.Length == 2);
        plan.SendSlots.Should().HaveCount(8);
    }

    [Fact]
    public void User_ids_carry_the_run_prefix()
    {
        var plan = LoadPlan.Create(Scenario.Connect, users: 3, groupSize: 10, edges: 1, "bench1a2b");

        plan.Devices.Select(d => d.UserId).Should().Equal("bench1a2b-u0", "bench1a2b-u1", "bench1a2b-u2");
        plan.Chats.Should().BeEmpty();
    }
}
