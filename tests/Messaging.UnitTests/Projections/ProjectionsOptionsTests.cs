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
    public void An_unknown_batched_fetch_runner_is_refused_at_start()
    {
        var options = new ProjectionsOptions { BatchedFetchRunners = "inbox,chats" };

        var errors = options.Validate(new ValidationContext(options)).ToList();

        errors.Should().ContainSingle().Which.ErrorMessage.Should().Contain("BatchedFetchRunners").And.Contain("'chats'");
    }
}
