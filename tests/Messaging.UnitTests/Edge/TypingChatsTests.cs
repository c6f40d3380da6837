using Messaging.Edge.Conversation;

namespace Messaging.UnitTests.Edge;

public sealed class TypingChatsTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 26, 0, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Expiry = TimeSpan.FromSeconds(5);

    [Fact]
    public void Chats_started_within_the_expiry_and_never_stopped_are_active_once()
    {
        var typing = new TypingChats();
        typing.Note("c2", started: true, T0);
        typing.Note("c1", started: true, T0.AddSeconds(1));
        typing.Note("c3", started: true, T0);
        typing.Note("c3", started: false, T0.AddSeconds(1));
        typing.Note("old", started: true, T0.AddSeconds(-10));

        typing.Active(T0.AddSeconds(2), Expiry).Should().Equal("c1", "c2");
        typing.Active(T0.AddSeconds(2), Expiry).Should().BeEmpty("the end of a session sends its stops once");
    }

    [Fact]
    public void A_renewed_start_counts_from_its_latest_time()
    {
        var typing = new TypingChats();
        typing.Note("c1", started: true, T0);
        typing.Note("c1", started: true, T0.AddSeconds(4));

        typing.Active(T0.AddSeconds(6), Expiry).Should().Equal("c1");
    }
}
