using System.ComponentModel.DataAnnotations;
using Messaging.Projections;

namespace Messaging.UnitTests.Projections;

public sealed class ProjectionsOptionsTests
{
    [Fact]
    public void By_default_every_runner_batches_its_fetches()
    {
        var options = new ProjectionsOptions();

        options.BatchesFetches("inbox").Should().BeTrue();
        options.BatchesFetches("presence").Should().BeTrue();
        options.BatchesFetches("chat").Should().BeTrue("Edge reads chat_members causally, so the chat runner's lag is no refusal");
    }

    [Fact]
    public void Batched_fetch_runners_are_read_case_and_space_insensitively()
    {
        var options = new ProjectionsOptions { BatchedFetchRunners = " Chat , INBOX" };

        options.BatchesFetches("chat").Should().BeTrue();
        options.BatchesFetches("inbox").Should().BeTrue();
        options.BatchesFetches("presence").Should().BeFalse();
    }

    [Fact]
    public void Only_the_inbox_runners_pages_linger()
    {
        var options = new ProjectionsOptions { InboxPageLingerMs = 900 };

        options.PageLingerFor("inbox").Should().Be(TimeSpan.FromMilliseconds(900));
        options.PageLingerFor("chat").Should().Be(TimeSpan.Zero);
        options.PageLingerFor("presence").Should().Be(TimeSpan.Zero);
    }

    [Fact]
    public void By_default_the_inbox_runner_lingers_a_second_and_listens_for_flush_requests()
    {
        var options = new ProjectionsOptions();

        options.PageLingerFor("inbox").Should().Be(TimeSpan.FromSeconds(1));
        options.InboxLingers.Should().BeTrue();
    }

    [Fact]
    public void A_process_without_the_inbox_runner_or_without_its_linger_does_not_listen_for_flush_requests()
    {
        new ProjectionsOptions { Runners = "chat,presence" }.InboxLingers.Should().BeFalse();
        new ProjectionsOptions { InboxPageLingerMs = 0 }.InboxLingers.Should().BeFalse();
    }

    [Fact]
    public void An_unknown_batched_fetch_runner_is_refused_at_start()
    {
        var options = new ProjectionsOptions { BatchedFetchRunners = "inbox,chats" };

        var errors = options.Validate(new ValidationContext(options)).ToList();

        errors.Should().ContainSingle().Which.ErrorMessage.Should().Contain("BatchedFetchRunners").And.Contain("'chats'");
    }
}
