using Messaging.Projections.Rebuild;
using Messaging.ReadModels.Checkpoints;
using Messaging.ReadModels.Schema;

namespace Messaging.UnitTests.Projections;

public sealed class RebuildAndMigrationTests
{
    [Fact]
    public void A_fresh_rebuild_plans_every_partition_from_its_earliest_offset()
    {
        var plan = RebuildPlan.Create([(new("t", 1), 0, 100), (new("t", 0), 20, 50)], new Dictionary<PartitionKey, long>());

        plan.Partitions.Select(p => p.Partition.Partition).Should().Equal(0, 1);
        plan.Partitions[0].Should().Match<PartitionPlan>(p => p.Position == 20 && p.Total == 30 && p.Remaining == 30 && p.Done == 0);
        plan.Total.Should().Be(130);
        plan.Remaining.Should().Be(130);
    }

    [Fact]
    public void A_resumed_rebuild_starts_at_its_checkpoint_but_never_below_the_earliest_offset()
    {
        var plan = RebuildPlan.Create(
            [(new("t", 0), 0, 100), (new("t", 1), 40, 100), (new("t", 2), 0, 10)],
            new Dictionary<PartitionKey, long> { [new("t", 0)] = 60, [new("t", 1)] = 10, [new("t", 2)] = 10 });

        plan.Partitions.Select(p => p.Remaining).Should().Equal(40L, 60L, 0L);
        plan.Partitions[0].Done.Should().Be(60);
        plan.Remaining.Should().Be(100);
    }

    [Fact]
    public void The_eta_is_the_remaining_records_at_the_current_rate()
    {
        RebuildPlan.Eta(1000, 100).Should().Be(TimeSpan.FromSeconds(10));
        RebuildPlan.Eta(0, 0).Should().Be(TimeSpan.Zero);
        RebuildPlan.Eta(10, 0).Should().BeNull();
    }

    [Fact]
    public void Migrations_are_ordered_by_their_numeric_version()
    {
        var ordered = MigrationCatalog.Order([("10_ten.sql", "c"), ("0002_two.sql", "b"), ("0001_initial.sql", "a"), ("9_nine.sql", "d")]);

        ordered.Select(m => m.Version).Should().Equal(1, 2, 9, 10);
        ordered[0].Name.Should().Be("initial");
    }

    [Fact]
    public void Two_migrations_with_one_version_are_refused()
    {
        var act = () => MigrationCatalog.Order([("0001_a.sql", "a"), ("001_b.sql", "b")]);

        act.Should().Throw<InvalidOperationException>().WithMessage("*version 1*");
    }

    [Fact]
    public void A_migration_without_a_version_is_refused()
    {
        var act = () => MigrationCatalog.Order([("initial.sql", "a")]);

        act.Should().Throw<InvalidOperationException>();
    }

    [Fact]
    public void The_embedded_migrations_start_with_the_initial_schema()
    {
        var scripts = MigrationCatalog.Embedded();

        scripts[0].Should().Match<MigrationScript>(m => m.Version == 1 && m.Sql.Contains("create table inbox"));
    }

    [Fact]
    public void The_device_identity_migration_keys_the_device_tables_by_user_and_device_and_replays_their_projections()
    {
        var migration = MigrationCatalog.Embedded().Single(m => m.Name == "device_identity");

        migration.Sql.Should().Contain("primary key (user_id, device_id, chat_id, seq)")
            .And.Contain("primary key (user_id, device_id, chat_id)")
            .And.Contain("primary key (user_id, device_id)")
            .And.Contain("delete from checkpoints where projection in ('inbox', 'presence', 'rebuild:inbox', 'rebuild:presence')");
    }

    [Fact]
    public void Advisory_lock_keys_are_stable_and_distinct_per_schema_and_projection()
    {
        AdvisoryLocks.Projection("s", "inbox").Should().Be(AdvisoryLocks.Projection("s", "inbox"));
        AdvisoryLocks.Projection("s", "inbox").Should().NotBe(AdvisoryLocks.Projection("t", "inbox"));
        AdvisoryLocks.Projection("s", "inbox").Should().NotBe(AdvisoryLocks.Rebuild("s", "inbox"));
        // FNV-1a of a fixed input: a key that changed between builds would let two versions race.
        AdvisoryLocks.Key("a", "", "").Should().Be(AdvisoryLocks.Key("a", "", ""));
    }
}
