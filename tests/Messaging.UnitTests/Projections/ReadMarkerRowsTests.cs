using Messaging.Contracts;
using Messaging.Contracts.Events;
using Messaging.Projections.Chats;
using Messaging.Projections.Runtime;

namespace Messaging.UnitTests.Projections;

public sealed class ReadMarkerRowsTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 25, 0, 0, 0, TimeSpan.Zero);

    private static ApplyRecord Apply(object value) => new(new SourceRecord("t", 0, 0, null, null), value);

    private static MessagesRead Read(string chat, string user, long seq) =>
        new() { ChatId = chat, Seq = seq, Actor = new DeviceRef(user, "phone"), OccurredAt = T0.AddSeconds(seq) };

    [Fact]
    public void A_page_becomes_the_highest_marker_per_chat_and_user_in_key_order()
    {
        var rows = ReadMarkerRows.Plan([
            Apply(Read("c2", "bo", 3)),
            Apply(Read("c1", "cy", 5)),
            Apply(Read("c1", "bo", 7)),
            Apply(Read("c1", "bo", 4)),
            Apply(new MemberRemoved { ChatId = "c1", Seq = 8, Actor = new DeviceRef("ana", "phone"), OccurredAt = T0, UserId = "cy" }),
            Apply(Read("c2", "bo", 3)),
        ]);

        rows.Should().Equal(
            ("c1", "bo", 7L, T0.AddSeconds(7).UtcDateTime, 7L),
            ("c1", "cy", 5L, T0.AddSeconds(5).UtcDateTime, 5L),
            ("c2", "bo", 3L, T0.AddSeconds(3).UtcDateTime, 3L));
    }

    [Fact]
    public void Private_markers_raise_the_read_position_but_not_the_shared_one()
    {
        var rows = ReadMarkerRows.Plan([
            Apply(Read("c1", "bo", 4)),
            Apply(Read("c1", "bo", 9) with { Private = true }),
            Apply(Read("c1", "bo", 6)),
            Apply(Read("c2", "bo", 2) with { Private = true }),
        ]);

        rows.Should().Equal(
            ("c1", "bo", 9L, T0.AddSeconds(9).UtcDateTime, 6L),
            ("c2", "bo", 2L, T0.AddSeconds(2).UtcDateTime, 0L));
    }

    [Fact]
    public void A_page_without_markers_writes_nothing()
    {
        ReadMarkerRows.Plan([Apply(new MemberRemoved { ChatId = "c1", Seq = 8, Actor = new DeviceRef("ana", "phone"), OccurredAt = T0, UserId = "cy" })])
            .Should().BeEmpty();
    }
}
