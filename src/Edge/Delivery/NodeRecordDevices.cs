using System.Text.Json;
using Messaging.Edge.Sockets;

namespace Messaging.Edge.Delivery;

/// <summary>
/// The <c>devices</c> array of a node record, read in place. A group of 1,024 members with two
/// devices each makes one <c>EventRouted</c> per node listing ~1,024 addresses; decoded by the
/// contract serializer that is ~1,024 strings (and a 30 KB list) per message, dropped a moment later:
/// ~18 % of an Edge node's allocations in the 1,024-member bench, and the ephemeral GCs they feed
/// stopped the delivery thread for 0.5-3 s at a time on the loaded machine (docs/benchmarks.md,
/// "fifth session: groups of 1,024"). Here each address is copied into a stack buffer and looked
/// up in the registry by its characters: the only string is the registry's own key.
/// </summary>
internal static class NodeRecordDevices
{
    /// <summary>The record's type prefix as both writers put it (the Router's encoder and the contract serializer write the discriminator first).</summary>
    public static ReadOnlySpan<byte> EventRoutedPrefix => "{\"type\":\"EventRouted\""u8;

    /// <summary>Addresses longer than this (in UTF-16 units) or escaped take the string path (user and device ids are far shorter).</summary>
    private const int MaxStackAddress = 256;

    /// <summary>
    /// Finds the top-level <c>devices</c> array: <paramref name="start"/> is its <c>[</c> and
    /// <paramref name="length"/> runs through its <c>]</c>. False when the record is not a JSON
    /// object with such an array (the caller then decodes the record as it is).
    /// </summary>
    public static bool TryFind(ReadOnlySpan<byte> utf8, out int start, out int length)
    {
        start = 0;
        length = 0;
        try
        {
            var reader = new Utf8JsonReader(utf8);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isDevices = reader.ValueTextEquals("devices"u8);
                if (!reader.Read())
                {
                    return false;
                }

                if (isDevices)
                {
                    if (reader.TokenType != JsonTokenType.StartArray)
                    {
                        return false;
                    }

                    start = (int)reader.TokenStartIndex;
                    reader.Skip();
                    length = (int)reader.BytesConsumed - start;
                    return true;
                }

                reader.Skip();
            }

            return false;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>
    /// The record with its <c>devices</c> array (at <paramref name="start"/>, <paramref name="length"/>
    /// bytes) replaced by <c>[]</c>, written to <paramref name="destination"/>; returns the bytes written.
    /// <paramref name="destination"/> needs <c>utf8.Length - length + 2</c> bytes.
    /// </summary>
    public static int WithoutDevices(ReadOnlySpan<byte> utf8, int start, int length, Span<byte> destination)
    {
        utf8[..start].CopyTo(destination);
        "[]"u8.CopyTo(destination[start..]);
        var tail = utf8[(start + length)..];
        tail.CopyTo(destination[(start + 2)..]);
        return start + 2 + tail.Length;
    }

    /// <summary>
    /// Adds to <paramref name="found"/> the registered connection of each address in
    /// <paramref name="devices"/> (a JSON array of strings, as <see cref="TryFind"/> located it);
    /// returns how many addresses the array lists. Addresses with no socket here are skipped.
    /// </summary>
    public static int Resolve(ReadOnlySpan<byte> devices, ConnectionRegistry registry, List<Connection> found)
    {
        var listed = 0;
        Span<char> chars = stackalloc char[MaxStackAddress];
        var reader = new Utf8JsonReader(devices);
        while (reader.Read())
        {
            if (reader.TokenType != JsonTokenType.String)
            {
                continue;
            }

            listed++;
            Connection? connection;
            if (!reader.ValueIsEscaped && reader.ValueSpan.Length <= MaxStackAddress)
            {
                var count = reader.CopyString(chars);
                registry.TryGet(chars[..count], out connection);
            }
            else
            {
                registry.TryGet(reader.GetString()!, out connection);
            }

            if (connection is not null)
            {
                found.Add(connection);
            }
        }

        return listed;
    }
}
