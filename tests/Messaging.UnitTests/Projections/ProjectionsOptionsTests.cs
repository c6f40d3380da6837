using System.ComponentModel.DataAnnotations;
using Messaging.Projections;

namespace Messaging.UnitTests.Projections;

public sealed class ProjectionsOptionsTests
{
    [Fact]
    public void By_default_inbox_and_presence_batch_their_fetches_and_chat_fetches_at_the_first_record()
    {
        var options = new ProjectionsOptions();

        options.BatchesFetches("inbox").Should().BeTrue();
        options.BatchesFetches("presence").Should().BeTrue();
        options.BatchesFetches("chat").Should().BeFalse("Edge authorizes history, presence and read markers by chat_members");
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
    public void An_unknown_batched_fetch_runner_is_refused_at_start()
    {
        var options = new ProjectionsOptions { BatchedFetchRunners = "inbox,chats" };

        var errors = options.Validate(new ValidationContext(options)).ToList();

        errors.Should().ContainSingle().Which.ErrorMessage.Should().Contain("BatchedFetchRunners").And.Contain("'chats'");
    }
}
