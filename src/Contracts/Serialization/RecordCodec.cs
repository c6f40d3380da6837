using System.Buffers;
using System.Collections.Frozen;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Messaging.Contracts.Serialization;

public enum DecodeStatus
{
    Ok,

    /// <summary>Not JSON, not an object, no <c>type</c>, or fields missing or of the wrong shape.</summary>
    Malformed,

    /// <summary>Well-formed, but a <c>type</c> this build does not know (a newer producer): skip or park.</summary>
    UnknownType,

    /// <summary>A known type with a schema version newer than this build understands.</summary>
    UnsupportedVersion,
}

public readonly record struct Decoded<T>(DecodeStatus Status, T? Value, string? Type, string? Error)
    where T : class
{
    public bool IsOk => Status == DecodeStatus.Ok;
}

/// <summary>
/// Decodes a polymorphic record family from UTF-8 bytes without throwing for bad input: the
/// status says whether to apply, skip or park it. Consumers must never crash on a record.
/// </summary>
public sealed class RecordCodec<T>
    where T : class
{
    private readonly JsonTypeInfo<T> _typeInfo;
    private readonly FrozenSet<string> _knownTypes;
    private readonly FrozenDictionary<string, RecordReader<T>> _readers;
    private readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> _typeNames;

    /// <summary>Longer type names than this are read as a new string (none of the contracts' is).</summary>
    private const int MaxLookedUpTypeBytes = 64;

    /// <summary>A codec over <paramref name="typeInfo"/>'s derived types; <paramref name="readers"/> (by type name) read those types instead of the metadata (<see cref="PerCopyReaders"/>).</summary>
    public RecordCodec(JsonTypeInfo<T> typeInfo, int maxVersion = 1, IReadOnlyDictionary<string, RecordReader<T>>? readers = null)
    {
        _typeInfo = typeInfo;
        _readers = (readers ?? new Dictionary<string, RecordReader<T>>()).ToFrozenDictionary(StringComparer.Ordinal);
        MaxVersion = maxVersion;
        var types = new List<string>();
        foreach (var derived in typeInfo.PolymorphismOptions?.DerivedTypes ?? [])
        {
            if (derived.TypeDiscriminator is string name)
            {
                types.Add(name);
            }
        }

        _knownTypes = types.ToFrozenSet(StringComparer.Ordinal);
        _typeNames = _knownTypes.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>The highest schema version this build reads.</summary>
    public int MaxVersion { get; }

    public IReadOnlySet<string> KnownTypes => _knownTypes;

    public Decoded<T> Decode(ReadOnlySpan<byte> utf8)
    {
        if (!TryReadHeader(utf8, out var type, out var version, out var headerError))
        {
            return new(DecodeStatus.Malformed, null, type, headerError);
        }

        if (!_knownTypes.Contains(type!))
        {
            return new(DecodeStatus.UnknownType, null, type, $"unknown type '{type}'");
        }

        if (version > MaxVersion || version < 1)
        {
            return new(DecodeStatus.UnsupportedVersion, null, type, $"type '{type}' version {version} is not supported (max {MaxVersion})");
        }

        try
        {
            var value = _readers.TryGetValue(type!, out var read) ? read(utf8) : JsonSerializer.Deserialize(utf8, _typeInfo);
            return value is null
                ? new(DecodeStatus.Malformed, null, type, "null record")
                : new(DecodeStatus.Ok, value, type, null);
        }
        catch (JsonException ex)
        {
            return new(DecodeStatus.Malformed, null, type, ex.Message);
        }
        catch (NotSupportedException ex)
        {
            return new(DecodeStatus.Malformed, null, type, ex.Message);
        }
    }

    public byte[] Encode(T value) => JsonSerializer.SerializeToUtf8Bytes(value, _typeInfo);

    /// <summary>Writes the record as UTF-8 into <paramref name="buffer"/> (a pooled writer on hot paths).</summary>
    public void Encode(T value, IBufferWriter<byte> buffer)
    {
        using var writer = new Utf8JsonWriter(buffer);
        JsonSerializer.Serialize(writer, value, _typeInfo);
    }

    /// <summary>Reads the top-level <c>type</c> and <c>v</c> (default 1) without materialising the record.</summary>
    private bool TryReadHeader(ReadOnlySpan<byte> utf8, out string? type, out int version, out string? error)
    {
        type = null;
        version = 1;
        error = null;
        try
        {
            var reader = new Utf8JsonReader(utf8);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                error = "record is not a JSON object";
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("type"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.String)
                    {
                        error = "'type' must be a string";
                        return false;
                    }

                    type = TypeName(ref reader);
                }
                else if (reader.ValueTextEquals("v"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out version))
                    {
                        error = "'v' must be an integer";
                        return false;
                    }
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            if (string.IsNullOrEmpty(type))
            {
                error = "record has no 'type'";
                return false;
            }

            return true;
        }
        catch (JsonException ex)
        {
            error = "invalid JSON: " + ex.Message;
            return false;
        }
    }

    /// <summary>
    /// A known type's name as the set's own string, so decoding a record allocates no string for
    /// its type (a new one per record was ~2 % of an Edge node's allocated bytes in groups of
    /// 1,024, nineteenth session's allocation trace); any other name as a new string.
    /// </summary>
    private string? TypeName(ref Utf8JsonReader reader)
    {
        if (!reader.ValueIsEscaped && !reader.HasValueSequence && reader.ValueSpan.Length <= MaxLookedUpTypeBytes)
        {
            Span<char> chars = stackalloc char[MaxLookedUpTypeBytes];
            if (Encoding.UTF8.TryGetChars(reader.ValueSpan, chars, out var written) && _typeNames.TryGetValue(chars[..written], out var known))
            {
                return known;
            }
        }

        return reader.GetString();
    }
}

/// <summary>Codecs for every record family, built once.</summary>
public static class Codecs
{
    public static RecordCodec<Commands.ChatCommand> Commands { get; } = new(ContractsJsonContext.Default.ChatCommand);

    public static RecordCodec<Events.ChatEvent> Events { get; } = new(ContractsJsonContext.Default.ChatEvent, SchemaVersions.ChatEvents);

    /// <summary>Reads v2 (addresses as keys; <c>UserDevicesChanged</c> with removed devices and a per-user version) and v1.</summary>
    public static RecordCodec<Devices.DeviceRecord> Devices { get; } = new(
        ContractsJsonContext.Default.DeviceRecord,
        SchemaVersions.DeviceRecords,
        new Dictionary<string, RecordReader<Devices.DeviceRecord>> { ["DeliveriesAcked"] = static utf8 => PerCopyReaders.ReadDeliveriesAcked(utf8) });

    public static RecordCodec<Devices.DeviceCommand> DeviceCommands { get; } = new(ContractsJsonContext.Default.DeviceCommand);

    public static RecordCodec<Delivery.NodeDelivery> Deliveries { get; } = new(
        ContractsJsonContext.Default.NodeDelivery,
        SchemaVersions.NodeDeliveries,
        new Dictionary<string, RecordReader<Delivery.NodeDelivery>> { ["ReceiptsRouted"] = static utf8 => PerCopyReaders.ReadReceiptsRouted(utf8) });

    public static RecordCodec<Protocol.ClientFrame> ClientFrames { get; } = new(
        ContractsJsonContext.Default.ClientFrame,
        readers: new Dictionary<string, RecordReader<Protocol.ClientFrame>> { ["ack"] = static utf8 => PerCopyReaders.ReadAckFrame(utf8) });

    public static RecordCodec<Protocol.ServerFrame> ServerFrames { get; } = new(ContractsJsonContext.Default.ServerFrame);
}
