using Messaging.ReadModels.Chats;

namespace Messaging.UnitTests.ReadModels;

public sealed class ReceiptCountsTests
{
    private static readonly MemberPosition[] Members =
    [
        new("ana", 1, null, 10, 10, 10),
        new("bo", 1, null, 7, 5, 5),
        new("cy", 1, null, 0, 0, 0),
        new("di", 6, null, 9, 9, 9),
        new("ed", 1, 4, 4, 4, 4),
        new("fay", 1, null, 2, 8, 8),
    ];

    [Theory]
    [InlineData(3, 3, 3)] // bo, ed (a member until 4), fay; cy holds nothing, di joined at 6
    [InlineData(5, 2, 2)] // bo, fay; ed left at 4, di not a member yet
    [InlineData(7, 3, 2)] // bo (cursor 7), di, fay (read 8 implies delivered); read: di, fay
    [InlineData(9, 1, 1)] // di only
    public void Counts_members_at_the_seq_besides_the_sender(long seq, int delivered, int read)
    {
        ReceiptCounts.Count(Members, seq, "ana", _ => true).Should().Be((delivered, read));
    }

    [Fact]
    public void Reading_counts_as_delivered_even_before_the_cursor_moved()
    {
        ReceiptCounts.Count([new("fay", 1, null, 0, 8, 8)], 8, "ana", _ => true).Should().Be((1, 1));
    }

    [Fact]
    public void Members_with_read_receipts_off_count_as_delivered_but_not_as_read()
    {
        ReceiptCounts.Count(Members, 3, "ana", u => u != "bo").Should().Be((3, 2));
    }

    [Fact]
    public void The_sender_never_counts_for_their_own_message()
    {
        ReceiptCounts.Count([new("ana", 1, null, 10, 10, 10)], 3, "ana", _ => true).Should().Be((0, 0));
    }

    [Fact]
    public void Reads_made_with_read_receipts_off_count_as_delivered_but_never_as_read()
    {
        // gus read up to 9 but only up to 4 with receipts on.
        MemberPosition gus = new("gus", 1, null, 0, 9, 4);

        ReceiptCounts.Count([gus], 4, "ana", _ => true).Should().Be((1, 1));
        ReceiptCounts.Count([gus], 5, "ana", _ => true).Should().Be((1, 0));
    }
}
