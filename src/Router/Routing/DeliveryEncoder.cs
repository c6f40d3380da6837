using System.Buffers;
using System.Text.Json;
using Messaging.Contracts;

namespace Messaging.Router.Routing;

/// <summary>
/// Writes <c>EventRouted</c> records around an event that is already encoded: the event is
/// serialized once for <c>chat.events</c> and spliced raw into each node's record instead of
/// being serialized again per node. The output is exactly the contract's JSON shape
/// (<c>{"type":"EventRouted","event":{…},"acceptedAt":"…","v":2,"devices":[…]}</c>, devices as
/// addresses <c>userId/deviceId</c>); a unit test compares it with the contract serializer's bytes.
/// </summary>
public sealed class DeliveryEncoder : IDisposable
{
    private readonly ArrayBufferWriter<byte> _buffer = new(4096);
    private readonly Utf8JsonWriter _writer;

    public DeliveryEncoder()
    {
        _writer = new Utf8JsonWriter(_buffer);
    }

    /// <summary>One node's record; <paramref name="acceptedAt"/> is when Edge accepted the command behind the event (its <c>issuedAt</c>), for the per-hop latency (null leaves it out).</summary>
    public byte[] EventRouted(ReadOnlySpan<byte> eventJson, DateTimeOffset? acceptedAt, List<string> devices)
    {
        _buffer.ResetWrittenCount();
        _writer.Reset(_buffer);
        _writer.WriteStartObject();
        // Property order as the contract serializer writes it (derived type's properties first), so
        // the bytes are the same whichever way a record was produced.
        _writer.WriteString("type"u8, "EventRouted"u8);
        _writer.WritePropertyName("event"u8);
        _writer.WriteRawValue(eventJson, skipInputValidation: true);
        if (acceptedAt is { } at)
        {
            _writer.WriteString("acceptedAt"u8, at);
        }

        _writer.WriteNumber("v"u8, SchemaVersions.NodeDeliveries);
        _writer.WriteStartArray("devices"u8);
        for (var i = 0; i < devices.Count; i++)
        {
            _writer.WriteStringValue(devices[i]);
        }

        _writer.WriteEndArray();
        _writer.WriteEndObject();
        _writer.Flush();
        return _buffer.WrittenSpan.ToArray();
    }

    public void Dispose() => _writer.Dispose();
}
