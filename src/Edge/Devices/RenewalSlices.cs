namespace Messaging.Edge.Devices;

/// <summary>How a node's session renewals are split into slices of the renewal period (<c>Edge:SessionRenewalBurst</c>).</summary>
internal static class RenewalSlices
{
    /// <summary>Slices for <paramref name="sockets"/>: enough that none holds more than <paramref name="burst"/>, at most <paramref name="maxSlices"/>.</summary>
    public static int For(int sockets, int burst, int maxSlices) => Math.Clamp((sockets + burst - 1) / burst, 1, maxSlices);

    /// <summary>The slice a socket's session is renewed in: by its address's hash (<c>Connection.AddressHash</c>), so the slices stay even.</summary>
    public static int Of(uint addressHash, int slices) => (int)(addressHash % (uint)slices);
}
