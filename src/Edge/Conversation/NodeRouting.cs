using Messaging.Contracts.Delivery;
using Messaging.Contracts.Serialization;
using Messaging.Contracts.Topics;
using Messaging.Edge.Commands;

namespace Messaging.Edge.Conversation;

/// <summary>
/// Receipts and typing are routed by Edge itself (docs/router.md, "Receipts and typing"): the
/// online devices found through <c>PresenceDirectory.AddOnlineDevices</c>, grouped per Edge node,
/// become one node delivery per node that has any.
/// </summary>
internal static class NodeRouting
{
    /// <summary>One empty device list per Edge node.</summary>
    public static List<string>[] Buckets(int edgeNodes)
    {
        var byNode = new List<string>[edgeNodes];
        for (var k = 0; k < byNode.Length; k++)
        {
            byNode[k] = [];
        }

        return byNode;
    }

    /// <summary>Adds to <paramref name="produces"/> one produce of <paramref name="record"/>(devices) per node whose list is not empty.</summary>
    public static void Produce(EdgeProducer producer, TopicNames topics, string chatId, List<string>[] byNode, Func<List<string>, NodeDelivery> record, List<Task> produces, CancellationToken cancellationToken)
    {
        for (var k = 0; k < byNode.Length; k++)
        {
            if (byNode[k].Count > 0)
            {
                produces.Add(producer.ProduceAsync(topics.DeliveryNode(k), chatId, Codecs.Deliveries.Encode(record(byNode[k])), cancellationToken));
            }
        }
    }
}
