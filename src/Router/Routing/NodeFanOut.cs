using Messaging.Router.Directory;

namespace Messaging.Router.Routing;

/// <summary>Groups an event's recipient devices (addresses <c>userId/deviceId</c>) by the Edge node they are online on.</summary>
public static class NodeFanOut
{
    /// <summary>
    /// Fills <paramref name="byNode"/>[k] with the recipients online on node k (cleared first;
    /// offline devices are left out: they get the event from their inbox on reconnect). The lists
    /// are reused across events so routing allocates nothing per device. Returns how many nodes
    /// got at least one device.
    /// </summary>
    public static int Group(IReadOnlyList<string> recipients, IDeviceDirectory directory, DateTimeOffset now, List<string>[] byNode)
    {
        for (var k = 0; k < byNode.Length; k++)
        {
            byNode[k].Clear();
        }

        var nodes = 0;
        for (var i = 0; i < recipients.Count; i++)
        {
            var node = directory.NodeOf(recipients[i], now);
            if ((uint)node >= (uint)byNode.Length)
            {
                continue;
            }

            var list = byNode[node];
            if (list.Count == 0)
            {
                nodes++;
            }

            list.Add(recipients[i]);
        }

        return nodes;
    }
}
