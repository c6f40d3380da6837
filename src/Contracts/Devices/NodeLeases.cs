namespace Messaging.Contracts.Devices;

/// <summary>
/// The latest <see cref="EdgeNodeLeased"/> of each Edge node, as read from <c>device.sessions</c>:
/// an array by node id, so resolving a device's node costs one index beside its session lookup
/// (the Router does it for every member device of every message). Written by the one thread that
/// reads the topic; read by any.
/// </summary>
public sealed class NodeLeases(int edgeNodes)
{
    private readonly EdgeNodeLeased?[] _leases = new EdgeNodeLeased?[Math.Max(edgeNodes, 0)];

    /// <summary>
    /// What a table of <c>device.sessions</c> keeps of a decoded record: a session or a node's lease
    /// (noted here as well), nothing else (a record of a type this build does not know is skipped).
    /// </summary>
    public DeviceRecord? Read(DeviceRecord? record)
    {
        if (record is EdgeNodeLeased lease)
        {
            Note(lease);
            return lease;
        }

        return record as DeviceSessionChanged;
    }

    /// <summary>Keeps <paramref name="lease"/> as its node's latest; a node id outside the cluster is ignored.</summary>
    public void Note(EdgeNodeLeased lease)
    {
        if ((uint)lease.Node < (uint)_leases.Length)
        {
            Volatile.Write(ref _leases[lease.Node], lease);
        }
    }

    /// <summary>The latest lease of <paramref name="node"/>, or null when none was read (or it is no node of the cluster).</summary>
    public EdgeNodeLeased? Of(int? node) =>
        node is int k && (uint)k < (uint)_leases.Length ? Volatile.Read(ref _leases[k]) : null;

    /// <summary>The node <paramref name="session"/> is online on at <paramref name="now"/>, or -1 (<see cref="SessionRules.NodeOf"/>).</summary>
    public int NodeOf(DeviceSessionChanged session, DateTimeOffset now) => SessionRules.NodeOf(session, Of(session.Node), now, _leases.Length);
}
