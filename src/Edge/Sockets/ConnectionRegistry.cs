using System.Collections.Concurrent;

namespace Messaging.Edge.Sockets;

/// <summary>
/// The live sockets of this node, one per device. Changes for one device are serialized by a
/// striped lock (<see cref="LockFor"/>) so that "replace the socket" and "write its session
/// record" happen in one order: an old socket's offline record can never be produced after the
/// new socket's online record.
/// </summary>
internal sealed class ConnectionRegistry
{
    private const int Stripes = 64;

    private readonly ConcurrentDictionary<string, Connection> _byDevice = new(StringComparer.Ordinal);
    private readonly object[] _locks = Enumerable.Range(0, Stripes).Select(_ => new object()).ToArray();

    public int Count => _byDevice.Count;

    public ICollection<Connection> Connections => _byDevice.Values;

    public object LockFor(string deviceId) => _locks[(int)((uint)StringComparer.Ordinal.GetHashCode(deviceId) % Stripes)];

    public bool TryGet(string deviceId, out Connection connection) => _byDevice.TryGetValue(deviceId, out connection!);

    /// <summary>Makes <paramref name="connection"/> the device's socket; returns the one it replaced. Call under <see cref="LockFor"/>.</summary>
    public Connection? Swap(Connection connection)
    {
        Connection? previous = null;
        _byDevice.AddOrUpdate(connection.DeviceId, connection, (_, old) =>
        {
            previous = old;
            return connection;
        });
        return previous;
    }

    /// <summary>Removes the socket only if it is still the device's current one. Call under <see cref="LockFor"/>.</summary>
    public bool Remove(Connection connection) =>
        _byDevice.TryRemove(new KeyValuePair<string, Connection>(connection.DeviceId, connection));

    public bool IsCurrent(Connection connection) =>
        _byDevice.TryGetValue(connection.DeviceId, out var current) && ReferenceEquals(current, connection);
}
