using Messaging.Bench.Metrics;

namespace Messaging.UnitTests.Bench;

public sealed class ProcessSamplerTests
{
    private readonly ProcessSampler _sampler = new(ProcessKind.System);

    [Fact]
    public void Cpu_ticks_are_user_plus_system_time_even_when_the_name_has_spaces_and_parentheses()
    {
        // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
        const string Stat = "4242 (java (kafka) x) S 1 4242 4242 0 -1 4194560 1000 0 0 0 1234 567 0 0 20 0 80 0 100 0 0";

        ProcessSampler.TryParseCpuTicks(Stat, out var ticks).Should().BeTrue();

        ticks.Should().Be(1234 + 567);
    }

    [Theory]
    [InlineData("dotnet\0/work/src/Edge/bin/Release/net10.0/linux-x64/Messaging.Edge.dll\0--urls\0http://127.0.0.1:8080\0", "edge")]
    [InlineData("dotnet\0Messaging.Router.dll\0", "router")]
    [InlineData("dotnet\0Messaging.Projections.dll\0", "projections")]
    [InlineData("java\0-cp\0libs/*\0kafka.Kafka\0server.properties\0", "kafka")]
    [InlineData("java\0-cp\0libs/*\0org.apache.zookeeper.server.quorum.QuorumPeerMain\0zk.properties\0", "zookeeper")]
    [InlineData("/usr/lib/postgresql/15/bin/postgres\0-D\0/tmp/pg\0", "postgres")]
    [InlineData("postgres: messaging messaging 127.0.0.1(51234) idle\0\0\0", "postgres")]
    [InlineData("node\0/work/.local/node_modules/.bin/s3rver\0-d\0/tmp/s3\0", "s3rver")]
    public void System_processes_are_recognised_by_their_command_line(string commandLine, string kind)
    {
        _sampler.KindOf(commandLine)!.Name.Should().Be(kind);
    }

    [Theory]
    [InlineData("bash\0-c\0tail -f postgres.log\0")]
    [InlineData("dotnet\0Messaging.Bench.dll\0run\0")]
    [InlineData("")]
    public void Other_processes_are_not_counted(string commandLine)
    {
        _sampler.KindOf(commandLine).Should().BeNull();
    }

    [Fact]
    public void Per_process_cpu_names_each_service_and_sums_each_infrastructure_kind_with_microseconds_per_delivery()
    {
        var sampler = new ProcessSampler(ProcessKind.System, new Dictionary<int, string> { [1] = "edge-0", [2] = "edge-1" });
        ProcessSample[] before = [new(2, "edge", 200, 0), new(1, "edge", 100, 0), new(3, "postgres", 50, 0), new(5, "kafka", 1000, 0)];
        ProcessSample[] after = [new(2, "edge", 230, 0), new(1, "edge", 150, 0), new(3, "postgres", 60, 0), new(4, "postgres", 30, 0), new(5, "kafka", 1100, 0)];

        // 2 s, 10,000 deliveries: 50 ticks = 0.5 s of CPU = 25 %, 50 µs per delivery.
        var lines = sampler.PerProcess(before, after, TimeSpan.FromSeconds(2), deliveries: 10_000);

        lines.Should().Equal(
            new ServerCpu("edge-0", 1, 25, 50),
            new ServerCpu("edge-1", 1, 15, 30),
            new ServerCpu("kafka", 1, 50, 100),
            new ServerCpu("postgres", 2, 20, 40),
            new ServerCpu("total", 5, 110, 220));
    }

    [Fact]
    public void Service_pid_files_name_live_Messaging_processes_and_skip_the_rest()
    {
        var directory = Directory.CreateTempSubdirectory("perf9-pids-").FullName;
        try
        {
            // This test host's command line names Messaging.UnitTests; pid 0 is no process of ours.
            File.WriteAllText(Path.Combine(directory, "edge-0.pid"), Environment.ProcessId + "\n");
            File.WriteAllText(Path.Combine(directory, "router.pid"), "0");
            File.WriteAllText(Path.Combine(directory, "projections.pid"), "not a pid");

            ProcessSampler.ReadServicePids(directory).Should().BeEquivalentTo(new Dictionary<int, string> { [Environment.ProcessId] = "edge-0" });
            ProcessSampler.ReadServicePids(Path.Combine(directory, "missing")).Should().BeNull();
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Per_process_cpu_has_no_cost_per_delivery_when_nothing_was_delivered()
    {
        var lines = _sampler.PerProcess([new(1, "router", 0, 0)], [new(1, "router", 10, 0)], TimeSpan.FromSeconds(1), deliveries: 0);

        lines.Should().Equal(new ServerCpu("router-pid1", 1, 10, null), new ServerCpu("total", 1, 10, null));
    }

    [Fact]
    public void Usage_sums_the_cpu_of_each_kind_over_the_window_and_counts_new_processes_whole()
    {
        ProcessSample[] before = [new(1, "edge", 100, 0), new(2, "edge", 200, 0), new(3, "postgres", 50, 0)];
        ProcessSample[] after = [new(1, "edge", 150, 100 << 20), new(2, "edge", 250, 50 << 20), new(3, "postgres", 60, 10 << 20), new(4, "postgres", 30, 5 << 20)];

        var usage = _sampler.Usage(before, after, TimeSpan.FromSeconds(2));

        var edge = usage.Single(u => u.Kind == "edge");
        edge.Processes.Should().Be(2);
        edge.CpuPercent.Should().Be(50); // 100 ticks of 1/100 s over 2 s
        edge.RssMiB.Should().Be(150);
        var postgres = usage.Single(u => u.Kind == "postgres");
        postgres.Processes.Should().Be(2);
        postgres.CpuPercent.Should().Be(20);
    }
}
