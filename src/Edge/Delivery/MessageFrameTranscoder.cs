using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using Messaging.Contracts;
using Messaging.Contracts.Protocol;
using Messaging.Edge.Sockets;

namespace Messaging.Edge.Delivery;

/// <summary>
/// The hot path of a node record: an <c>EventRouted</c> of a plain <c>MessageSent</c> (not
/// encrypted) becomes the client's <c>message</c> frame in one pass over the record's bytes. Each
/// event value is copied as it is written (already valid, escaped JSON) under the frame's name
/// (<c>actor</c> → <c>sender</c>, <c>occurredAt</c> → <c>sentAt</c>), and the device addresses are
/// read in place, without a string each. The general path decodes the whole record into objects,
/// maps them to a <see cref="MessageFrame"/> and encodes that: at 4,000 sends/s the decoding was
/// 8.3 % and the encoding 5.8 % of an Edge node's CPU (docs/benchmarks.md, tenth session).
/// <para>Anything else returns false and takes the general path, which decodes, checks and
/// reports: another record or event type, an encrypted message (a frame per device), another
/// schema version, a required field missing or of the wrong JSON type, malformed JSON. The frame
/// is the general path's up to property order; a unit test compares the two, and another fails
/// when <c>MessageSent</c> or <c>EventRouted</c> gains a property this reader does not know.</para>
/// Not thread-safe: one per delivery loop.
/// </summary>
internal sealed class MessageFrameTranscoder : IDisposable
{
    private readonly Utf8JsonWriter _writer = new(Stream.Null, new JsonWriterOptions { SkipValidation = true });
    private readonly ListedDevices _devices = new();

    [Flags]
    private enum Required
    {
        None = 0,
        ChatId = 1,
        Seq = 2,
        Actor = 4,
        OccurredAt = 8,
        MessageId = 16,
        ClientMsgId = 32,
        Body = 64,
        All = ChatId | Seq | Actor | OccurredAt | MessageId | ClientMsgId | Body,
    }

    /// <summary>The event's required string fields: its name, the frame's name, its bit.</summary>
    private static readonly (byte[] Event, byte[] Frame, Required Flag)[] RequiredStrings =
    [
        ("chatId"u8.ToArray(), "chatId"u8.ToArray(), Required.ChatId),
        ("occurredAt"u8.ToArray(), "sentAt"u8.ToArray(), Required.OccurredAt),
        ("messageId"u8.ToArray(), "messageId"u8.ToArray(), Required.MessageId),
        ("clientMsgId"u8.ToArray(), "clientMsgId"u8.ToArray(), Required.ClientMsgId),
        ("body"u8.ToArray(), "body"u8.ToArray(), Required.Body),
    ];

    /// <summary>The devices the last transcoded record lists.</summary>
    public int DeviceCount => _devices.Count;

    /// <summary>
    /// The <paramref name="index"/>-th address of the last transcoded <paramref name="record"/>, in
    /// a buffer reused by the next call.
    /// </summary>
    public ReadOnlySpan<char> Device(ReadOnlySpan<byte> record, int index) => _devices.Get(record, index);

    /// <summary>
    /// The frame of <paramref name="record"/> (with <paramref name="pushedAt"/>, <c>Edge:HopTimestamps</c>,
    /// it carries the record's <c>acceptedAt</c> and the push time) and the event's <c>traceparent</c>;
    /// false when the record is not a plain message this reader fully understands.
    /// </summary>
    public bool TryTranscode(ReadOnlySpan<byte> record, DateTimeOffset? pushedAt, [NotNullWhen(true)] out SharedFrame? frame, out string? traceparent)
    {
        frame = null;
        traceparent = null;
        _devices.Clear();
        var output = new PooledBufferWriter(512);
        try
        {
            _writer.Reset(output);
            if (!TryWrite(record, pushedAt, out var chatId, out var seq, out traceparent))
            {
                _devices.Clear();
                return false;
            }

            _writer.Flush();
            var (buffer, length) = output.Detach();
            frame = SharedFrame.FromEncoded(buffer, length, chatId, seq, nameof(MessageFrame));
            return true;
        }
        catch (JsonException)
        {
            // Malformed JSON: the general path reports it.
            _devices.Clear();
            return false;
        }
        finally
        {
            _writer.Reset(Stream.Null);
            output.Release();
        }
    }

    public void Dispose() => _writer.Dispose();

    private bool TryWrite(ReadOnlySpan<byte> record, DateTimeOffset? pushedAt, [NotNullWhen(true)] out string? chatId, out long seq, out string? traceparent)
    {
        chatId = null;
        seq = 0;
        traceparent = null;
        var reader = new Utf8JsonReader(record);
        if (!RecordJson.ReadTypeIs(ref reader, "EventRouted"u8))
        {
            return false;
        }

        _writer.WriteStartObject();
        _writer.WriteString("type"u8, "message"u8);
        var sawEvent = false;
        var sawDevices = false;
        var acceptedAt = ReadOnlySpan<byte>.Empty;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("event"u8))
            {
                if (sawEvent || !reader.Read() || !TryWriteEvent(ref reader, record, out chatId, out seq, out traceparent))
                {
                    return false;
                }

                sawEvent = true;
            }
            else if (reader.ValueTextEquals("acceptedAt"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.String)
                {
                    acceptedAt = record[RecordJson.Raw(ref reader)];
                }
                else if (reader.TokenType != JsonTokenType.Null)
                {
                    return false;
                }
            }
            else if (reader.ValueTextEquals("v"u8))
            {
                if (!RecordJson.ReadVersionIs(ref reader, SchemaVersions.NodeDeliveries))
                {
                    return false;
                }
            }
            else if (reader.ValueTextEquals("devices"u8))
            {
                if (!_devices.TryRead(ref reader))
                {
                    return false;
                }

                sawDevices = true;
            }
            else
            {
                reader.Skip();
            }
        }

        if (reader.TokenType != JsonTokenType.EndObject || !sawEvent || !sawDevices || chatId is null)
        {
            return false;
        }

        if (pushedAt is { } pushed)
        {
            if (!acceptedAt.IsEmpty)
            {
                _writer.WritePropertyName("acceptedAt"u8);
                _writer.WriteRawValue(acceptedAt, skipInputValidation: true);
            }

            _writer.WriteString("pushedAt"u8, pushed);
        }

        _writer.WriteEndObject();
        return true;
    }

    /// <summary>Copies a <c>MessageSent</c>'s values into the open frame; false for anything else.</summary>
    private bool TryWriteEvent(ref Utf8JsonReader reader, ReadOnlySpan<byte> record, out string? chatId, out long seq, out string? traceparent)
    {
        chatId = null;
        seq = 0;
        traceparent = null;
        if (reader.TokenType != JsonTokenType.StartObject || !RecordJson.ReadTypeIs(ref reader, "MessageSent"u8, started: true))
        {
            return false;
        }

        var seen = Required.None;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("v"u8))
            {
                if (!RecordJson.ReadVersionIs(ref reader, SchemaVersions.ChatEvents))
                {
                    return false;
                }
            }
            else if (RequiredString(ref reader) is var field and >= 0)
            {
                var (_, frameName, flag) = RequiredStrings[field];
                if (!CopyString(ref reader, record, frameName))
                {
                    return false;
                }

                if (flag == Required.ChatId)
                {
                    chatId = reader.GetString();
                }

                seen |= flag;
            }
            else if (reader.ValueTextEquals("seq"u8))
            {
                if (!reader.Read() || reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out seq))
                {
                    return false;
                }

                _writer.WriteNumber("seq"u8, seq);
                seen |= Required.Seq;
            }
            else if (reader.ValueTextEquals("actor"u8))
            {
                if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                {
                    return false;
                }

                CopyValue(ref reader, record, "sender"u8);
                seen |= Required.Actor;
            }
            else if (reader.ValueTextEquals("replyTo"u8))
            {
                if (!CopyOptional(ref reader, record, "replyTo"u8, JsonTokenType.String))
                {
                    return false;
                }
            }
            else if (reader.ValueTextEquals("attachments"u8))
            {
                if (!CopyOptional(ref reader, record, "attachments"u8, JsonTokenType.StartArray))
                {
                    return false;
                }
            }
            else if (reader.ValueTextEquals("traceparent"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.String)
                {
                    traceparent = reader.GetString();
                }
                else if (reader.TokenType != JsonTokenType.Null)
                {
                    return false;
                }
            }
            else if (reader.ValueTextEquals("payloads"u8))
            {
                // Encrypted: each device gets its own ciphertext, so one frame cannot serve all.
                if (!reader.Read() || reader.TokenType != JsonTokenType.Null)
                {
                    return false;
                }
            }
            else
            {
                reader.Skip();
            }
        }

        return reader.TokenType == JsonTokenType.EndObject && seen == Required.All;
    }

    /// <summary>Which of <see cref="RequiredStrings"/> the property the reader is on names, or -1.</summary>
    private static int RequiredString(ref Utf8JsonReader reader)
    {
        for (var i = 0; i < RequiredStrings.Length; i++)
        {
            if (reader.ValueTextEquals(RequiredStrings[i].Event))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Writes the value the reader is on, as it is in the record, under <paramref name="name"/>.</summary>
    private void CopyValue(ref Utf8JsonReader reader, ReadOnlySpan<byte> record, ReadOnlySpan<byte> name)
    {
        _writer.WritePropertyName(name);
        _writer.WriteRawValue(record[RecordJson.Raw(ref reader)], skipInputValidation: true);
    }

    private bool CopyString(ref Utf8JsonReader reader, ReadOnlySpan<byte> record, ReadOnlySpan<byte> name)
    {
        if (!reader.Read() || reader.TokenType != JsonTokenType.String)
        {
            return false;
        }

        CopyValue(ref reader, record, name);
        return true;
    }

    /// <summary>A value of <paramref name="token"/> type is copied, null is left out (as the frame serializer does), anything else is refused.</summary>
    private bool CopyOptional(ref Utf8JsonReader reader, ReadOnlySpan<byte> record, ReadOnlySpan<byte> name, JsonTokenType token)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.Null)
        {
            return true;
        }

        if (reader.TokenType != token)
        {
            return false;
        }

        CopyValue(ref reader, record, name);
        return true;
    }
}
