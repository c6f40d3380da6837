using System.ComponentModel.DataAnnotations;

namespace Messaging.Hosting;

/// <summary>Shape of the deployment every service must agree on (section <c>Cluster</c>).</summary>
public sealed class ClusterOptions
{
    public const string Section = "Cluster";

    /// <summary>
    /// Size of the fixed set of Edge node topics (<c>delivery.node-0</c> … <c>delivery.node-(N-1)</c>).
    /// Fewer Edge processes than N may run; each owns one node id.
    /// </summary>
    [Range(1, 256)]
    public int EdgeNodes { get; set; } = 8;
}
