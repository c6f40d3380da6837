namespace Messaging.Edge.Devices;

/// <summary>Which slice of the renewal period a socket's session is renewed in: by its address, so the slices stay even.</summary>
internal static class RenewalSlices
{
    public static int Of(string address, int slices) => (int)((uint)StringComparer.Ordinal.GetHashCode(address) % (uint)slices);
}
