using Messaging.Contracts;
using Messaging.Contracts.Commands;
using Messaging.Contracts.Events;
using Messaging.Router;
using Messaging.Router.Chats;

namespace Messaging.UnitTests.Router;

/// <summary>No chat's state record can exceed what the broker accepts (issue 8).</summary>
public sealed class ChatStateBoundsTests
{
    private static string Id(char fill, int index, int length)
    {
        var suffix = index.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return suffix + new string(fill, length - suffix.Length);
    }

    /// <summary>Every field at its longest and most escaped: max members and recent messages (with sender, time and both flags), 128-char ids, a title of characters JSON escapes.</summary>
    private static ChatState WorstCase(RouterOptions options)
    {
        var limits = options.Limits();
        var chatId = new string('c', Ids.MaxChatIdLength);
        var title = new string('<', TextRules.MaxTitleLength);
        var state = new ChatState(chatId, ChatKind.Group, title);
        for (var i = 0; i < limits.MaxGroupMembers; i++)
        {
            state.AddMember(Id('u', i, Ids.MaxLength), MemberRole.Member, long.MaxValue);
        }

        for (var i = 0; i < limits.RecentClientMsgIds; i++)
        {
            var message = new RecentMessage(Id('m', i, Ids.MaxLength), long.MaxValue, Id('x', i, Ids.MaxLength), Id('s', i, Ids.MaxLength), DateTimeOffset.MaxValue, encrypted: true) { Deleted = true };
            state.Remember(message, limits.RecentClientMsgIds);
        }

        state.RestoreSeq(long.MaxValue);
        state.LastCommandOffset = long.MinValue;
        return state;
    }

    [Fact]
    public void The_worst_case_state_under_the_default_limits_encodes_under_the_computed_bound_and_the_record_limit()
    {
        var options = new RouterOptions();
        var state = WorstCase(options);
        state.Members.Should().HaveCount(options.MaxGroupMembers);
        state.RecentCount.Should().Be(options.RecentClientMsgIds);

        var encoded = ChatStateCodec.Encode(state);

        encoded.Length.Should().BeLessThanOrEqualTo((int)ChatStateBounds.WorstCaseBytes(options.Limits()));
        ChatStateBounds.WorstCaseBytes(options.Limits()).Should().Be(722_603, "the figure in ChatStateBounds and docs/router.md");
        encoded.Length.Should().BeLessThan(options.MaxStateRecordBytes);
        ChatStateCodec.Decode(encoded, options.RecentClientMsgIds).Title.Should().Be(state.Title);
    }

    [Fact]
    public void The_bound_is_tight_enough_to_mean_something() =>
        ChatStateCodec.Encode(WorstCase(new RouterOptions())).Length.Should().BeGreaterThan((int)(ChatStateBounds.WorstCaseBytes(new RouterOptions().Limits()) * 0.8));

    [Fact]
    public void Limits_whose_worst_case_exceeds_the_record_limit_are_refused_at_start()
    {
        var validator = new RouterOptionsValidator();
        validator.Validate(null, new RouterOptions()).Succeeded.Should().BeTrue();
        var tooMany = validator.Validate(null, new RouterOptions { MaxGroupMembers = 5000 });
        tooMany.Failed.Should().BeTrue();
        tooMany.FailureMessage.Should().Contain("Router:MaxStateRecordBytes");
        validator.Validate(null, new RouterOptions { RecentClientMsgIds = 10_000 }).Failed.Should().BeTrue();
        validator.Validate(null, new RouterOptions { MaxGroupMembers = 5000, MaxStateRecordBytes = 2_000_000 }).Succeeded.Should().BeTrue();
    }
}
