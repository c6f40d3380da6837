using Messaging.Client;
using Messaging.Contracts.Protocol;

namespace Messaging.UnitTests.Client;

public sealed class ConversationBooksTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    private static ReceiptFrame Receipt(string state, params (string User, long Seq)[] users) =>
        new() { ChatId = "c1", State = state, Receipts = [.. users.Select(u => new UserReceipt(u.User, u.Seq, T0))] };

    [Fact]
    public void Receipts_count_users_by_their_highest_seq_however_often_and_in_whatever_order_they_arrive()
    {
        var book = new ReceiptBook();

        book.Apply(Receipt(ConversationStates.Delivered, ("bo", 5), ("cy", 3)));
        book.Apply(Receipt(ConversationStates.Delivered, ("bo", 4), ("cy", 3)));
        book.Apply(Receipt(ConversationStates.Read, ("bo", 2)));

        book.Count("c1", ConversationStates.Delivered, 3).Should().Be(2);
        book.Count("c1", ConversationStates.Delivered, 5).Should().Be(1, "a later, lower receipt (another node) lowers nothing");
        book.Count("c1", ConversationStates.Read, 3).Should().Be(0);
        book.PositionOf("c1", ConversationStates.Read, "bo").Should().Be(2);
        book.Count("other", ConversationStates.Delivered, 1).Should().Be(0);
    }

    [Fact]
    public void Typing_holds_until_stopped_or_expired()
    {
        var board = new TypingBoard();
        board.Apply(new TypingPushFrame { ChatId = "c1", UserId = "bo", State = ConversationStates.Started, ExpiresInMs = 5000 }, T0);
        board.Apply(new TypingPushFrame { ChatId = "c1", UserId = "ana", State = ConversationStates.Started, ExpiresInMs = 5000 }, T0.AddSeconds(3));

        board.TypingIn("c1", T0.AddSeconds(4)).Should().Equal("ana", "bo");
        board.TypingIn("c1", T0.AddSeconds(6)).Should().Equal("ana");
        board.Apply(new TypingPushFrame { ChatId = "c1", UserId = "ana", State = ConversationStates.Stopped, ExpiresInMs = 5000 }, T0.AddSeconds(7));
        board.TypingIn("c1", T0.AddSeconds(7)).Should().BeEmpty();
    }
}
