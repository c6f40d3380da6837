using System.Text.Json;

namespace Messaging.Edge.Delivery;

/// <summary>Reading steps the transcoders of node records share.</summary>
internal static class RecordJson
{
    /// <summary>Reads <c>{"type":"…"</c> (or, <paramref name="started"/>, just the property) and checks the type.</summary>
    public static bool ReadTypeIs(ref Utf8JsonReader reader, ReadOnlySpan<byte> type, bool started = false) =>
        (started || (reader.Read() && reader.TokenType == JsonTokenType.StartObject))
        && reader.Read() && reader.TokenType == JsonTokenType.PropertyName && reader.ValueTextEquals("type"u8)
        && reader.Read() && reader.TokenType == JsonTokenType.String && reader.ValueTextEquals(type);

    /// <summary>The value the reader is on (a string with its quotes, or a whole object or array), as it is in the record.</summary>
    public static Range Raw(ref Utf8JsonReader reader)
    {
        var start = (int)reader.TokenStartIndex;
        reader.Skip();
        return start..(int)reader.BytesConsumed;
    }

    /// <summary>Reads a schema version and checks it is <paramref name="expected"/>.</summary>
    public static bool ReadVersionIs(ref Utf8JsonReader reader, int expected) =>
        reader.Read() && reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var version) && version == expected;
}
