using Confluent.Kafka;
using Messaging.Contracts.Devices;
using Messaging.Contracts.Serialization;

namespace Messaging.IntegrationTests.Harness;

/// <summary>The acks of a chat in <c>device.acks</c> records, whether written one per record (<c>DeliveryAcked</c>) or in a node's batch (<c>DeliveriesAcked</c>).</summary>
public static class AckRecords
{
    public static List<DeviceAck> Of(IEnumerable<ConsumeResult<string, byte[]>> records, string chatId)
    {
        var acks = new List<DeviceAck>();
        foreach (var record in records)
        {
            switch (Codecs.Devices.Decode(record.Message.Value).Value)
            {
                case DeliveryAcked a when a.ChatId == chatId:
                    acks.Add(a.AsAck());
                    break;
                case DeliveriesAcked batch:
                    acks.AddRange(batch.Acks.Where(a => a.ChatId == chatId));
                    break;
            }
        }

        return acks;
    }
}
