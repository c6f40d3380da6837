using System.Text.Json;
using Messaging.Contracts.Devices;
using Messaging.Contracts.Protocol;

namespace Messaging.Contracts.Serialization;

/// <summary>
/// Reads one record type straight from its UTF-8 JSON; throws <see cref="JsonException"/> for
/// what the source-generated metadata would refuse, so <see cref="RecordCodec{T}"/> reports the
/// same status either way.
/// </summary>
public delegate T RecordReader<out T>(ReadOnlySpan<byte> utf8);

/// <summary>
/// Hand-written readers for the records decoded once per delivered copy: the <c>ack</c> frame
/// (Edge, every copy in a group comes back as one), <see cref="DeliveriesAcked"/> (Projections
/// decodes each batch twice, inbox and archive) and <see cref="Delivery.ReceiptsRouted"/> (Edge:
/// in groups of 1,024 about one user's receipt per copy). Their properties are <c>required</c>, so
/// System.Text.Json reads them through its constructor-argument path, which boxes every value: in
/// groups of 1,024 decoding was 46 % of the Projections process and 2.7 % of an Edge node
/// (fourteenth session's profile), and decoding receipts ~30 % of an Edge node's allocated bytes
/// (nineteenth session's allocation trace; docs/benchmarks.md). The metadata still writes these
/// records, exports their schemas and reads every other type; a unit test holds each reader to the
/// serializer's result.
/// </summary>
public static class PerCopyReaders
{
    public static DeliveriesAcked ReadDeliveriesAcked(ReadOnlySpan<byte> utf8)
    {
        try
        {
            return DeliveriesAcked(utf8);
        }
        catch (InvalidOperationException ex)
        {
            // The reader throws this for text it cannot turn into a string (a lone surrogate escape);
            // the serializer reports it as a JsonException, and so must a reader.
            throw new JsonException(ex.Message, ex);
        }
    }

    public static AckFrame ReadAckFrame(ReadOnlySpan<byte> utf8)
    {
        try
        {
            return AckFrame(utf8);
        }
        catch (InvalidOperationException ex)
        {
            throw new JsonException(ex.Message, ex);
        }
    }

    public static Delivery.ReceiptsRouted ReadReceiptsRouted(ReadOnlySpan<byte> utf8)
    {
        try
        {
            return ReceiptsRouted(utf8);
        }
        catch (InvalidOperationException ex)
        {
            throw new JsonException(ex.Message, ex);
        }
    }

    private static Delivery.ReceiptsRouted ReceiptsRouted(ReadOnlySpan<byte> utf8)
    {
        var reader = new Utf8JsonReader(utf8);
        StartObject(ref reader);
        List<string>? devices = null;
        List<UserReceipt>? receipts = null;
        string? chatId = null;
        string? state = null;
        var version = 0;
        while (NextProperty(ref reader))
        {
            if (reader.ValueTextEquals("receipts"u8))
            {
                Expect(ref reader, JsonTokenType.StartArray, "receipts");
                receipts = [];
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    receipts.Add(ReadUserReceipt(ref reader));
                }
            }
            else if (reader.ValueTextEquals("devices"u8))
            {
                Expect(ref reader, JsonTokenType.StartArray, "devices");
                devices = [];
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    // A null address is refused, where the serializer would hand it on to fail in the consumer's lookup.
                    devices.Add(reader.TokenType == JsonTokenType.String ? reader.GetString()! : throw new JsonException("a device must be a string"));
                }
            }
            else if (reader.ValueTextEquals("chatId"u8))
            {
                chatId = String(ref reader, "chatId");
            }
            else if (reader.ValueTextEquals("state"u8))
            {
                state = String(ref reader, "state");
            }
            else if (reader.ValueTextEquals("v"u8))
            {
                version = Int32(ref reader, "v");
            }
            else
            {
                SkipValue(ref reader);
            }
        }

        End(ref reader);
        return new Delivery.ReceiptsRouted
        {
            Devices = devices ?? throw Missing("devices"),
            ChatId = chatId ?? throw Missing("chatId"),
            State = state ?? throw Missing("state"),
            Receipts = receipts ?? throw Missing("receipts"),
            V = version,
        };
    }

    private static UserReceipt ReadUserReceipt(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("a receipt must be an object");
        }

        string? userId = null;
        long? seq = null;
        DateTimeOffset? at = null;
        while (NextProperty(ref reader))
        {
            if (reader.ValueTextEquals("userId"u8))
            {
                userId = String(ref reader, "userId");
            }
            else if (reader.ValueTextEquals("seq"u8))
            {
                seq = Int64(ref reader, "seq");
            }
            else if (reader.ValueTextEquals("at"u8))
            {
                at = DateTime(ref reader, "at");
            }
            else
            {
                SkipValue(ref reader);
            }
        }

        return new UserReceipt(userId ?? throw Missing("userId"), seq ?? throw Missing("seq"), at ?? throw Missing("at"));
    }

    private static DeliveriesAcked DeliveriesAcked(ReadOnlySpan<byte> utf8)
    {
        var reader = new Utf8JsonReader(utf8);
        StartObject(ref reader);
        List<DeviceAck>? acks = null;
        // Without "v" the serializer leaves V at 0 (its constructor path skips the initializer): so does this.
        var version = 0;
        while (NextProperty(ref reader))
        {
            if (reader.ValueTextEquals("acks"u8))
            {
                Expect(ref reader, JsonTokenType.StartArray, "acks");
                acks = [];
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    acks.Add(ReadDeviceAck(ref reader));
                }
            }
            else if (reader.ValueTextEquals("v"u8))
            {
                version = Int32(ref reader, "v");
            }
            else
            {
                SkipValue(ref reader);
            }
        }

        End(ref reader);
        return new DeliveriesAcked { Acks = acks ?? throw Missing("acks"), V = version };
    }

    private static AckFrame AckFrame(ReadOnlySpan<byte> utf8)
    {
        var reader = new Utf8JsonReader(utf8);
        StartObject(ref reader);
        string? id = null;
        string? chatId = null;
        long? seq = null;
        while (NextProperty(ref reader))
        {
            if (reader.ValueTextEquals("chatId"u8))
            {
                chatId = String(ref reader, "chatId");
            }
            else if (reader.ValueTextEquals("seq"u8))
            {
                seq = Int64(ref reader, "seq");
            }
            else if (reader.ValueTextEquals("id"u8))
            {
                reader.Read();
                id = reader.TokenType switch
                {
                    JsonTokenType.Null => null,
                    JsonTokenType.String => reader.GetString(),
                    _ => throw new JsonException("'id' must be a string"),
                };
            }
            else
            {
                SkipValue(ref reader);
            }
        }

        End(ref reader);
        return new AckFrame { Id = id, ChatId = chatId ?? throw Missing("chatId"), Seq = seq ?? throw Missing("seq") };
    }

    private static DeviceAck ReadDeviceAck(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("an ack must be an object");
        }

        string? userId = null;
        string? deviceId = null;
        string? chatId = null;
        long? seq = null;
        DateTimeOffset? ackedAt = null;
        while (NextProperty(ref reader))
        {
            if (reader.ValueTextEquals("userId"u8))
            {
                userId = String(ref reader, "userId");
            }
            else if (reader.ValueTextEquals("deviceId"u8))
            {
                deviceId = String(ref reader, "deviceId");
            }
            else if (reader.ValueTextEquals("chatId"u8))
            {
                chatId = String(ref reader, "chatId");
            }
            else if (reader.ValueTextEquals("seq"u8))
            {
                seq = Int64(ref reader, "seq");
            }
            else if (reader.ValueTextEquals("ackedAt"u8))
            {
                ackedAt = DateTime(ref reader, "ackedAt");
            }
            else
            {
                SkipValue(ref reader);
            }
        }

        return new DeviceAck
        {
            UserId = userId ?? throw Missing("userId"),
            DeviceId = deviceId ?? throw Missing("deviceId"),
            ChatId = chatId ?? throw Missing("chatId"),
            Seq = seq ?? throw Missing("seq"),
            AckedAt = ackedAt ?? throw Missing("ackedAt"),
        };
    }

    private static void StartObject(ref Utf8JsonReader reader)
    {
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("a record must be a JSON object");
        }
    }

    /// <summary>Moves to the next property name of the current object; false at its end.</summary>
    private static bool NextProperty(ref Utf8JsonReader reader) => reader.Read() && reader.TokenType == JsonTokenType.PropertyName;

    /// <summary>After the root object: anything but the end of the input is refused, as the serializer does.</summary>
    private static void End(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
        {
            throw new JsonException("unexpected content after the record");
        }
    }

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType token, string name)
    {
        if (!reader.Read() || reader.TokenType != token)
        {
            throw new JsonException($"'{name}' must be {(token == JsonTokenType.StartArray ? "an array" : token.ToString())}");
        }
    }

    private static string String(ref Utf8JsonReader reader, string name)
    {
        reader.Read();
        return reader.TokenType == JsonTokenType.String ? reader.GetString()! : throw new JsonException($"'{name}' must be a string");
    }

    private static long Int64(ref Utf8JsonReader reader, string name)
    {
        reader.Read();
        return reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var value) ? value : throw new JsonException($"'{name}' must be an integer");
    }

    private static int Int32(ref Utf8JsonReader reader, string name)
    {
        reader.Read();
        return reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var value) ? value : throw new JsonException($"'{name}' must be an integer");
    }

    private static DateTimeOffset DateTime(ref Utf8JsonReader reader, string name)
    {
        reader.Read();
        return reader.TokenType == JsonTokenType.String && reader.TryGetDateTimeOffset(out var value)
            ? value
            : throw new JsonException($"'{name}' must be an ISO 8601 date and time");
    }

    private static void SkipValue(ref Utf8JsonReader reader)
    {
        reader.Read();
        reader.Skip();
    }

    private static JsonException Missing(string name) => new($"the required property '{name}' is missing");
}
