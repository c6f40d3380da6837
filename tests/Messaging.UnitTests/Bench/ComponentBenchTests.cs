using System.Text.Json;
using Messaging.Bench.Components;
using Messaging.Bench.Metrics;
using Messaging.Bench.Results;

namespace Messaging.UnitTests.Bench;

public sealed class ComponentBenchTests
{
    [Fact]
    public void The_router_backlog_is_one_create_per_chat_then_the_sends()
    {
        var plan = new RouterBacklogPlan { Chats = 1000, Sends = 100_000 };

        plan.Commands.Should().Be(101_000);
        Enumerable.Range(0, plan.Chats).Sum(plan.SendsTo).Should().Be(100_000);
    }

    [Fact]
    public void Sends_are_dealt_round_robin_over_chats_then_members()
    {
        var plan = new RouterBacklogPlan { Chats = 3, GroupSize = 2, Users = 6, Sends = 7 };

        Enumerable.Range(0, 7).Select(i => plan.Send(i)).Should().Equal((0, 0), (1, 0), (2, 0), (0, 1), (1, 1), (2, 1), (0, 0));
        new[] { plan.SendsTo(0), plan.SendsTo(1), plan.SendsTo(2) }.Should().Equal(3, 2, 2);
    }

    [Fact]
    public void A_groups_members_are_distinct_consecutive_users_wrapping_around()
    {
        var plan = new RouterBacklogPlan { Chats = 5, GroupSize = 4, Users = 10 };

        Enumerable.Range(0, 4).Select(i => plan.Member(3, i)).Should().Equal(2, 3, 4, 5);
        Enumerable.Range(0, 4).Select(i => plan.Member(2, i)).Should().Equal(8, 9, 0, 1);
    }

    [Fact]
    public void Only_the_first_devices_of_a_user_are_online_and_they_rotate_over_the_nodes()
    {
        var plan = new RouterBacklogPlan { DevicesPerUser = 3, OnlineDevicesPerUser = 2, EdgeNodes = 4 };

        plan.NodeOf(0, 0).Should().Be(0);
        plan.NodeOf(0, 1).Should().Be(1);
        plan.NodeOf(0, 2).Should().BeNull();
        plan.NodeOf(1, 0).Should().Be(2);
        plan.NodeOf(3, 1).Should().Be(3);
    }

    [Fact]
    public void Expected_delivery_records_are_each_chats_nodes_times_its_events()
    {
        // Groups of 2 consecutive users, one online device each, 4 nodes: every chat spans 2 nodes.
        var plan = new RouterBacklogPlan { Chats = 2, GroupSize = 2, Users = 4, DevicesPerUser = 2, OnlineDevicesPerUser = 1, EdgeNodes = 4, Sends = 5 };

        plan.NodesOf(0).Should().Be(2);
        plan.NodesOf(1).Should().Be(2);
        plan.ExpectedDeliveryRecords().Should().Be((2 * (1 + 3)) + (2 * (1 + 2)));
    }

    [Fact]
    public void The_default_router_backlog_reaches_every_node_with_every_event()
    {
        var plan = new RouterBacklogPlan();

        plan.ExpectedDeliveryRecords().Should().Be(4 * plan.Commands);
    }

    [Fact]
    public void Offline_users_get_no_delivery_records()
    {
        var plan = new RouterBacklogPlan { Chats = 10, OnlineDevicesPerUser = 0, Sends = 100 };

        plan.ExpectedDeliveryRecords().Should().Be(0);
    }

    [Theory]
    [InlineData(10, 11, 2, 1, "--group-size 11 needs at least as many --users")]
    [InlineData(10, 5, 2, 3, "--online-devices must be between 0 and --devices-per-user (2)")]
    [InlineData(10, 1, 2, 1, "--group-size at least 2")]
    public void An_inconsistent_router_plan_names_the_flags(int users, int groupSize, int devices, int online, string message)
    {
        var plan = new RouterBacklogPlan { Users = users, GroupSize = groupSize, DevicesPerUser = devices, OnlineDevicesPerUser = online };

        plan.Validate().Should().Contain(message);
    }

    [Fact]
    public void The_default_plans_are_valid()
    {
        new RouterBacklogPlan().Validate().Should().BeNull();
        new EventBacklogPlan().Validate().Should().BeNull();
        new EventBacklogPlan().Events.Should().BeGreaterThanOrEqualTo(1_000_000);
    }

    [Fact]
    public void The_first_events_create_the_chats_and_every_chats_seqs_are_dense_in_log_order()
    {
        var plan = new EventBacklogPlan { Events = 1003, Chats = 10 };
        var seqs = new Dictionary<int, List<long>>();
        for (long i = 0; i < plan.Events; i++)
        {
            var (chat, seq) = plan.At(i);
            if (i < plan.Chats)
            {
                seq.Should().Be(1);
            }

            (seqs.TryGetValue(chat, out var list) ? list : seqs[chat] = []).Add(seq);
        }

        seqs.Should().HaveCount(10);
        foreach (var (chat, list) in seqs)
        {
            list.Should().Equal(Enumerable.Range(1, list.Count).Select(s => (long)s));
            list.Count.Should().Be((int)plan.EventsIn(chat));
        }
    }

    [Fact]
    public void Group_size_shapes_only_the_membership_rows_never_rows_per_message()
    {
        var plan = new EventBacklogPlan { Events = 1_000_000, Chats = 100, Members = 1024, DevicesPerMember = 2 };

        plan.MembershipRows.Should().Be(102_400);
        plan.RecipientDevices.Should().Be(2048);
        plan.Validate().Should().BeNull();
        (plan with { DevicesPerMember = 0 }).Validate().Should().Contain("--devices-per-member");
    }

    [Fact]
    public void Fewer_events_than_chats_is_refused()
    {
        new EventBacklogPlan { Events = 5, Chats = 10 }.Validate().Should().Contain("--events (5) must be at least --chats (10)");
    }

    [Theory]
    [InlineData("Router:MaxBatch=5000", "Router__MaxBatch", "5000")]
    [InlineData("Projections__BatchSize=2000", "Projections__BatchSize", "2000")]
    [InlineData("Kafka:Producer:linger.ms=5", "Kafka__Producer__linger.ms", "5")]
    [InlineData("Router:GroupId=a=b", "Router__GroupId", "a=b")]
    public void A_setting_becomes_an_environment_variable(string text, string key, string value)
    {
        ComponentOptions.TryParseSetting(text, out var k, out var v, out var error).Should().BeTrue();

        (k, v, error).Should().Be((key, value, (string?)null));
    }

    [Theory]
    [InlineData("Router:MaxBatch")]
    [InlineData("=5")]
    public void A_setting_without_a_key_and_value_is_refused(string text)
    {
        ComponentOptions.TryParseSetting(text, out _, out _, out var error).Should().BeFalse();
        error.Should().Contain("KEY=VALUE");
    }

    [Fact]
    public void Producer_settings_keep_their_librdkafka_names()
    {
        ComponentOptions.TryParseSettings(["linger.ms=50", "linger.ms=100", "batch.num.messages=5000"], configurationKeys: false, out var settings, out _).Should().BeTrue();

        settings.Should().BeEquivalentTo(new Dictionary<string, string> { ["linger.ms"] = "100", ["batch.num.messages"] = "5000" });
    }

    [Fact]
    public void Each_run_gets_a_fresh_topic_prefix_and_a_plain_schema_name()
    {
        var at = new DateTimeOffset(2026, 11, 22, 4, 5, 6, TimeSpan.Zero);

        ComponentOptions.DefaultTopicPrefix(at).Should().Be("bench-20261122T040506.");
        ComponentOptions.DefaultSchema(at).Should().Be("bench_20261122t040506");
        ComponentOptions.IsPlainIdentifier(ComponentOptions.DefaultSchema(at)).Should().BeTrue();
        ComponentOptions.IsPlainIdentifier("x; drop schema public").Should().BeFalse();
        ComponentOptions.IsPlainIdentifier("Bench").Should().BeFalse();
    }

    [Fact]
    public void A_partition_without_a_commit_counts_as_nothing_done()
    {
        OffsetProbe.Progress(-1001).Should().Be(0);
        OffsetProbe.Progress(42).Should().Be(42);
    }

    [Fact]
    public void Release_builds_of_a_service_are_preferred_to_debug_ones()
    {
        var candidates = ServiceBinaries.Candidates("/repo", "Router", "Messaging.Router.dll").ToList();

        candidates.Should().Equal(
            "/repo/src/Router/bin/Release/net10.0/linux-x64/Messaging.Router.dll",
            "/repo/src/Router/bin/Debug/net10.0/linux-x64/Messaging.Router.dll");
        ServiceBinaries.IsDebugBuild(candidates[1]).Should().BeTrue();
        ServiceBinaries.IsDebugBuild(candidates[0]).Should().BeFalse();
    }

    [Fact]
    public void Peak_resident_memory_comes_from_VmHWM()
    {
        ProcessSampler.ParsePeakResidentBytes("Name:\tdotnet\nVmPeak:\t  999 kB\nVmHWM:\t  171520 kB\nVmRSS:\t  1 kB\n").Should().Be(171520L * 1024);
        ProcessSampler.ParsePeakResidentBytes("Name:\tkthreadd\n").Should().Be(0);
    }

    [Fact]
    public void A_component_result_is_one_json_line_with_camel_case_fields_and_no_nulls()
    {
        var line = ResultLog.ToJsonLine(new ComponentResult
        {
            RunId = "router-20261122T040438Z",
            At = new DateTimeOffset(2026, 11, 22, 4, 4, 38, TimeSpan.Zero),
            Component = "router",
            Phase = "drain",
            TopicPrefix = "bench-20261122T040438.",
            Service = "/repo/src/Router/bin/Release/net10.0/linux-x64/Messaging.Router.dll",
            Settings = ["Router__MaxBatch=5000"],
            Chats = 1000,
            GroupSize = 10,
            BodyBytes = 60,
            EdgeNodes = 4,
            PrefillRecords = 24_000,
            PrefillSeconds = 0.8,
            StartupSeconds = 2.1,
            Seconds = 2.6,
            Commands = 17_000,
            CommandsPerSecond = 6_474,
            DeliveryRecordsPerSecond = 25_884.6,
            ServiceCpuPercent = 55,
            ServiceRssMiB = 165,
            ServicePeakRssMiB = 165,
            Processes = [new ProcessUsage("kafka", 1, 57.6, 380)],
            GeneratorCpuPercent = 5,
            Machine = new MachineInfo("box", 2, 24, "Linux", ".NET 10"),
        });

        line[^1].Should().Be((byte)'\n');
        line.AsSpan(0, line.Length - 1).IndexOf((byte)'\n').Should().Be(-1);
        using var document = JsonDocument.Parse(line);
        var root = document.RootElement;
        root.GetProperty("component").GetString().Should().Be("router");
        root.GetProperty("commandsPerSecond").GetDouble().Should().Be(6_474);
        root.GetProperty("deliveryRecordsPerSecond").GetDouble().Should().Be(25_884.6);
        root.GetProperty("processes")[0].GetProperty("kind").GetString().Should().Be("kafka");
        root.TryGetProperty("schema", out _).Should().BeFalse();
        root.TryGetProperty("eventsPerSecond", out _).Should().BeFalse();
    }
}
