using Messaging.Contracts;
using Messaging.Contracts.Delivery;
using Messaging.Contracts.Devices;
using Messaging.Contracts.Events;
using Messaging.Contracts.Protocol;

namespace Messaging.Bench.Micro;

/// <summary>Representative records for the micro-benchmarks: a 100-byte body in a group of 10 (the load generator's defaults).</summary>
internal static class SampleRecords
{
    public const int GroupSize = 10;

    public static readonly string Body = new('x', 100);

    public static readonly DateTimeOffset At = new(2025, 1, 1, 12, 0, 0, TimeSpan.Zero);

    /// <summary>User i's device <c>d0</c>, by its address <c>bench-u{i}/d0</c>.</summary>
    public static string[] DeviceAddresses(int count)
    {
        var devices = new string[count];
        for (var i = 0; i < count; i++)
        {
            devices[i] = DeviceRef.AddressOf("bench-u" + i.ToString(System.Globalization.CultureInfo.InvariantCulture), "d0");
        }

        return devices;
    }

    public static MessageSent MessageSent() => new()
    {
        ChatId = "g-7f3c2a9e",
        Seq = 4711,
        Actor = new DeviceRef("bench-u0", "d0"),
        OccurredAt = At,
        MessageId = "01943a1c-7d2e-7b4f-9a51-3f0c2d8e4b6a",
        ClientMsgId = "b1.3.4711.123456789",
        Body = Body,
    };

    public static MessageFrame MessageFrame() => new()
    {
        ChatId = "g-7f3c2a9e",
        Seq = 4711,
        MessageId = "01943a1c-7d2e-7b4f-9a51-3f0c2d8e4b6a",
        ClientMsgId = "b1.3.4711.123456789",
        Sender = new DeviceRef("bench-u0", "d0"),
        Body = Body,
        SentAt = At,
    };

    /// <summary>The five devices of one Edge node out of two (the group's other half).</summary>
    public static EventRouted EventRouted() => new()
    {
        Devices = DeviceAddresses(GroupSize / 2),
        Event = MessageSent(),
    };

    public static byte[] SendFrameUtf8() =>
        System.Text.Encoding.UTF8.GetBytes("{\"type\":\"message.send\",\"id\":\"r42\",\"chatId\":\"g-7f3c2a9e\",\"clientMsgId\":\"b1.3.4711.123456789\",\"body\":\"" + Body + "\"}");

    /// <summary>A batch of acks of <paramref name="count"/> devices of one chat, as an Edge node writes it.</summary>
    public static DeliveriesAcked AckBatch(int count)
    {
        var acks = new DeviceAck[count];
        for (var i = 0; i < count; i++)
        {
            acks[i] = new DeviceAck { UserId = $"g1024a-1764244800-u{i:D5}", DeviceId = "d1", ChatId = "g1024a-1764244800-chat-0", Seq = 1000 + i, AckedAt = At };
        }

        return new DeliveriesAcked { Acks = acks };
    }

    public static byte[] AckFrameUtf8() =>
        "{\"type\":\"ack\",\"chatId\":\"g-7f3c2a9e\",\"seq\":4711}"u8.ToArray();
}
