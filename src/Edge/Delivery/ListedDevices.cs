using System.Text;
using System.Text.Json;

namespace Messaging.Edge.Delivery;

/// <summary>
/// The device addresses a node record lists, read in place: each is a position in the record's
/// bytes (a string only when it had JSON escapes), turned into characters in a reused buffer when
/// looked up. A string per address was one allocation per delivered copy. Shared by the
/// transcoders of the hot records; not thread-safe (one per delivery loop).
/// </summary>
internal sealed class ListedDevices
{
    private readonly List<Address> _addresses = [];
    private char[] _chars = new char[256];

    public int Count => _addresses.Count;

    public void Clear() => _addresses.Clear();

    /// <summary>
    /// Reads the array the reader is on (its next token must start it), adding every address;
    /// false when it is not an array of strings.
    /// </summary>
    public bool TryRead(ref Utf8JsonReader reader)
    {
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray)
        {
            return false;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.String)
        {
            _addresses.Add(reader.ValueIsEscaped
                ? new Address(0, 0, reader.GetString())
                : new Address((int)reader.TokenStartIndex + 1, reader.ValueSpan.Length, null));
        }

        return reader.TokenType == JsonTokenType.EndArray;
    }

    /// <summary>
    /// The <paramref name="index"/>-th address read from <paramref name="record"/>, in a buffer
    /// reused by the next call.
    /// </summary>
    public ReadOnlySpan<char> Get(ReadOnlySpan<byte> record, int index)
    {
        var address = _addresses[index];
        if (address.Unescaped is { } unescaped)
        {
            return unescaped;
        }

        var utf8 = record.Slice(address.Start, address.Length);
        if (_chars.Length < utf8.Length)
        {
            // UTF-8 never has fewer bytes than the UTF-16 code units it decodes to.
            _chars = new char[utf8.Length];
        }

        var count = Encoding.UTF8.GetChars(utf8, _chars);
        return _chars.AsSpan(0, count);
    }

    /// <summary>Where an address is in the record, or the address itself when it had JSON escapes.</summary>
    private readonly record struct Address(int Start, int Length, string? Unescaped);
}
