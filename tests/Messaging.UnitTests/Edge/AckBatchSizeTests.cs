using Messaging.Contracts.Devices;
using Messaging.Contracts.Serialization;
using Messaging.Edge.Commands;

namespace Messaging.UnitTests.Edge;

/// <summary>An ack batch is cut by an upper bound of its encoded size, so a record of client-chosen ids never passes the broker's limit.</summary>
public sealed class AckBatchSizeTests
{
    // {"type":"DeliveriesAcked","v":2,"acks":[ ... ]} around the acks, and a comma between two.
    private const int Envelope = 64;

    public static TheoryData<string> Ids() => new()
    {
        new string('a', 128),
        new string('é', 128),
        string.Concat(Enumerable.Repeat("😀", 64)),
        new string('\u0001', 128),
        "\"quoted\\path/<script>&" + new string('x', 100),
        "u",
    };

    [Theory]
    [MemberData(nameof(Ids))]
    public void The_size_bound_of_each_ack_covers_its_encoding_in_a_batch(string id)
    {
        var acks = Enumerable.Range(0, 50)
            .Select(i => new DeviceAck { UserId = id, DeviceId = id, ChatId = "d:" + id + ":" + id, Seq = long.MaxValue - i, AckedAt = new DateTimeOffset(2026, 11, 26, 23, 59, 59, 999, TimeSpan.FromHours(-9.5)).AddTicks(9999) })
            .ToList();

        var encoded = Codecs.Devices.Encode(new DeliveriesAcked { Acks = acks });

        encoded.Length.Should().BeLessThanOrEqualTo(acks.Sum(AckBatcher.EncodedSizeBound) + Envelope);
    }
}
