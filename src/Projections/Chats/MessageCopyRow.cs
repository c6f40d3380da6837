using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using Messaging.Projections.Runtime;
using Messaging.ReadModels.Chats;

namespace Messaging.Projections.Chats;

/// <summary>
/// One <c>messages</c> row already encoded in PostgreSQL's binary COPY format, plus what the
/// page's <c>chats</c> bump needs. A rebuild's bulk phase decodes <c>MessageSent</c> records
/// straight into these on its decode threads, so the writer only copies bytes.
/// </summary>
internal sealed class MessageCopyRow(string chatId, long seq, DateTime sentAt, byte[] row) : IRecordTypeName
{
    public string ChatId { get; } = chatId;

    public long Seq { get; } = seq;

    public DateTime SentAt { get; } = sentAt;

    /// <summary>The row: field count, then each field's length and bytes (binary COPY).</summary>
    public byte[] Row { get; } = row;

    public string RecordType => "MessageSent";
}

/// <summary>
/// The rebuild's fast path for the one event that dominates <c>chat.events</c>: reads a
/// <c>MessageSent</c> with <see cref="Utf8JsonReader"/> and writes its <c>messages</c> row as
/// binary COPY bytes, without materialising the event or its strings. The full decoder
/// (<c>Codecs.Events</c>, then <see cref="ChatRows.Message"/>) cost ≈ 3.2 KB of garbage and two
/// parses per event and was most of the rebuild's CPU (docs/operations.md, "Measured").
/// Anything this reader does not recognise exactly (another type, an unsupported version, a
/// missing, null, duplicated or unknown property, attachments, invalid text) returns false and
/// the record takes the full decoder, which gives the live path's verdict (apply, skip or park):
/// so the fast path can only ever produce the row the full path would have.
/// </summary>
internal static class MessageCopyReader
{
    private const int Fields = 16;

    // Bits of the properties seen (duplicates fall back: the full decoder's last-wins is not copied).
    private const int TypeBit = 1, VersionBit = 2, ChatBit = 4, SeqBit = 8, ActorBit = 16, AtBit = 32,
        MessageIdBit = 64, ClientMsgIdBit = 128, BodyBit = 256, AttachmentsBit = 512;

    private const int Required = TypeBit | ChatBit | SeqBit | ActorBit | AtBit | MessageIdBit | ClientMsgIdBit | BodyBit;

    private static readonly byte[] MessageKind = Encoding.UTF8.GetBytes(ChangeKinds.Message);

    public static bool TryRead(ReadOnlySpan<byte> utf8, int maxVersion, out MessageCopyRow? row)
    {
        row = null;
        try
        {
            return TryReadCore(utf8, maxVersion, out row);
        }
        catch (JsonException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            // CopyString on an invalid escape (a lone surrogate): the full decoder decides.
            return false;
        }
    }

    // Fully optimised at once: a rebuild is a short process, and tiered compilation left this
    // loop in unoptimised tier-0 code for most of a 200k-event run (perf: "QuickJitted").
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool TryReadCore(ReadOnlySpan<byte> utf8, int maxVersion, out MessageCopyRow? row)
    {
        row = null;
        var reader = new Utf8JsonReader(utf8);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        var seen = 0;
        long seq = 0;
        var version = 1;
        DateTimeOffset at = default;
        Utf8Value chat = default, messageId = default, clientMsgId = default, body = default, user = default, device = default;
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.EndObject)
            {
                break;
            }

            int bit;
            if (reader.ValueTextEquals("type"u8))
            {
                bit = TypeBit;
                if (!reader.Read() || reader.TokenType != JsonTokenType.String || !reader.ValueTextEquals("MessageSent"u8))
                {
                    return false;
                }
            }
            else if (reader.ValueTextEquals("v"u8))
            {
                bit = VersionBit;
                if (!reader.Read() || reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out version))
                {
                    return false;
                }
            }
            else if (reader.ValueTextEquals("chatId"u8))
            {
                bit = ChatBit;
                if (!Utf8Value.TryRead(ref reader, utf8, out chat))
                {
                    return false;
                }
            }
            else if (reader.ValueTextEquals("seq"u8))
            {
                bit = SeqBit;
                if (!reader.Read() || reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out seq))
                {
                    return false;
                }
            }
            else if (reader.ValueTextEquals("actor"u8))
            {
                bit = ActorBit;
                if (!TryReadActor(ref reader, utf8, out user, out device))
                {
                    return false;
                }
            }
            else if (reader.ValueTextEquals("occurredAt"u8))
            {
                bit = AtBit;
                if (!reader.Read() || reader.TokenType != JsonTokenType.String || !reader.TryGetDateTimeOffset(out at))
                {
                    return false;
                }
            }
            else if (reader.ValueTextEquals("messageId"u8))
            {
                bit = MessageIdBit;
                if (!Utf8Value.TryRead(ref reader, utf8, out messageId))
                {
                    return false;
                }
            }
            else if (reader.ValueTextEquals("clientMsgId"u8))
            {
                bit = ClientMsgIdBit;
                if (!Utf8Value.TryRead(ref reader, utf8, out clientMsgId))
                {
                    return false;
                }
            }
            else if (reader.ValueTextEquals("body"u8))
            {
                bit = BodyBit;
                if (!Utf8Value.TryRead(ref reader, utf8, out body))
                {
                    return false;
                }
            }
            else if (reader.ValueTextEquals("attachments"u8))
            {
                // Null or empty means no attachments (the row's column is null either way); a
                // list takes the full decoder, which writes the column's canonical JSON.
                bit = AttachmentsBit;
                if (!reader.Read()
                    || (reader.TokenType != JsonTokenType.Null
                        && (reader.TokenType != JsonTokenType.StartArray || !reader.Read() || reader.TokenType != JsonTokenType.EndArray)))
                {
                    return false;
                }
            }
            else if (reader.ValueTextEquals("recipientDevices"u8))
            {
                // Version 2's recipient list, ignored by the version 3 reader (docs/events.md).
                bit = 0;
                reader.Read();
                reader.Skip();
            }
            else
            {
                // A property this reader does not know (a newer field) must not be dropped silently.
                return false;
            }

            if ((seen & bit) != 0)
            {
                return false;
            }

            seen |= bit;
        }

        if ((seen & Required) != Required || version < 1 || version > maxVersion || reader.Read())
        {
            return false;
        }

        var sentAt = at.UtcDateTime;
        if (sentAt == DateTime.MinValue || sentAt == DateTime.MaxValue)
        {
            // Npgsql writes these as -infinity/infinity; the full path keeps that rule.
            return false;
        }

        var chatBytes = chat.Span(utf8);
        var size = 2 + (Fields * 4) + chatBytes.Length + 8 + MessageKind.Length + messageId.Length + clientMsgId.Length
            + user.Length + device.Length + body.Length + 8;
        var buffer = new byte[size];
        var w = new CopyRowWriter(buffer);
        w.FieldCount(Fields);
        w.Bytes(chatBytes);
        w.Int64(seq);
        w.Bytes(MessageKind);
        w.Bytes(messageId.Span(utf8));
        w.Bytes(clientMsgId.Span(utf8));
        w.Bytes(user.Span(utf8));
        w.Bytes(device.Span(utf8));
        w.Bytes(body.Span(utf8));
        w.Null();
        w.Null();
        w.Null();
        w.Timestamp(sentAt);

        // reply_to, payloads, target_seq, emoji: a record with replyTo or payloads takes the full decoder.
        w.Null();
        w.Null();
        w.Null();
        w.Null();
        row = new MessageCopyRow(Encoding.UTF8.GetString(chatBytes), seq, sentAt, buffer);
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool TryReadActor(ref Utf8JsonReader reader, ReadOnlySpan<byte> utf8, out Utf8Value user, out Utf8Value device)
    {
        user = default;
        device = default;
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        bool hasUser = false, hasDevice = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (!hasUser && reader.ValueTextEquals("userId"u8))
            {
                hasUser = Utf8Value.TryRead(ref reader, utf8, out user);
                if (!hasUser)
                {
                    return false;
                }
            }
            else if (!hasDevice && reader.ValueTextEquals("deviceId"u8))
            {
                hasDevice = Utf8Value.TryRead(ref reader, utf8, out device);
                if (!hasDevice)
                {
                    return false;
                }
            }
            else
            {
                return false;
            }
        }

        return hasUser && hasDevice && reader.TokenType == JsonTokenType.EndObject;
    }

    /// <summary>A string value: a slice of the record when it has no escapes, else its unescaped copy.</summary>
    private readonly struct Utf8Value(int start, int length, byte[]? unescaped)
    {
        public int Length => unescaped?.Length ?? length;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static bool TryRead(ref Utf8JsonReader reader, ReadOnlySpan<byte> utf8, out Utf8Value text)
        {
            text = default;
            if (!reader.Read() || reader.TokenType != JsonTokenType.String)
            {
                return false;
            }

            if (reader.ValueIsEscaped)
            {
                var copy = new byte[reader.ValueSpan.Length];
                var written = reader.CopyString(copy);
                text = new Utf8Value(0, 0, copy.AsSpan(0, written).ToArray());
            }
            else
            {
                // The token starts at its opening quote; the value follows it.
                text = new Utf8Value(checked((int)reader.TokenStartIndex) + 1, reader.ValueSpan.Length, null);
            }

            // The full path turns the value into a .NET string, which invalid UTF-8 cannot be.
            return Utf8.IsValid(text.Span(utf8));
        }

        public ReadOnlySpan<byte> Span(ReadOnlySpan<byte> utf8) => unescaped ?? utf8.Slice(start, length);
    }
}

/// <summary>
/// Writes one row of PostgreSQL's binary COPY format (the "Binary Format" section of the COPY
/// documentation): a 16-bit field count, then per field a 32-bit length (−1 for null) and the
/// value in the type's binary send format, all big-endian.
/// </summary>
internal ref struct CopyRowWriter(Span<byte> buffer)
{
    /// <summary>The binary COPY stream's header: signature, flags, header extension length.</summary>
    public static ReadOnlySpan<byte> Header => [(byte)'P', (byte)'G', (byte)'C', (byte)'O', (byte)'P', (byte)'Y', (byte)'\n', 0xff, (byte)'\r', (byte)'\n', 0, 0, 0, 0, 0, 0, 0, 0, 0];

    /// <summary>The file trailer: a field count of −1.</summary>
    public static ReadOnlySpan<byte> Trailer => [0xff, 0xff];

    // Microseconds from 0001-01-01 to PostgreSQL's epoch 2000-01-01 (UTC), as Npgsql writes timestamptz.
    private const long PostgresEpochTicks = 630_822_816_000_000_000;

    private const uint TextOid = 25;

    private readonly Span<byte> _buffer = buffer;
    private int _position;

    public readonly int Position => _position;

    public static int TextArraySize(IReadOnlyList<byte[]> items)
    {
        var size = 4 + 20;
        foreach (var item in items)
        {
            size += 4 + item.Length;
        }

        return size;
    }

    public void FieldCount(short count)
    {
        BinaryPrimitives.WriteInt16BigEndian(_buffer[_position..], count);
        _position += 2;
    }

    public void Null() => Length(-1);

    public void Bytes(ReadOnlySpan<byte> value)
    {
        Length(value.Length);
        value.CopyTo(_buffer[_position..]);
        _position += value.Length;
    }

    public void Int64(long value)
    {
        Length(8);
        BinaryPrimitives.WriteInt64BigEndian(_buffer[_position..], value);
        _position += 8;
    }

    /// <summary>A UTC time as timestamptz: microseconds since 2000-01-01, truncated like Npgsql does.</summary>
    public void Timestamp(DateTime utc) => Int64((utc.Ticks - PostgresEpochTicks) / 10);

    /// <summary>jsonb: a format version byte (1) and the JSON text.</summary>
    public void Jsonb(ReadOnlySpan<byte> json)
    {
        Length(json.Length + 1);
        _buffer[_position++] = 1;
        json.CopyTo(_buffer[_position..]);
        _position += json.Length;
    }

    /// <summary>A one-dimensional text[] without nulls (array_send's layout: dimensions, flags, element type, bounds, elements).</summary>
    public void TextArray(IReadOnlyList<byte[]> items)
    {
        Length(TextArraySize(items) - 4);
        Int32(1);
        Int32(0);
        Int32(unchecked((int)TextOid));
        Int32(items.Count);
        Int32(1);
        foreach (var item in items)
        {
            Bytes(item);
        }
    }

    private void Length(int length) => Int32(length);

    private void Int32(int value)
    {
        BinaryPrimitives.WriteInt32BigEndian(_buffer[_position..], value);
        _position += 4;
    }
}

/// <summary>Encodes a <see cref="MessageRow"/> (every event the fast path leaves to the full decoder) in the same COPY layout.</summary>
internal static class MessageRowCopy
{
    // Strict like Npgsql's own text encoding: a string that is not valid UTF-16 fails instead of being altered.
    private static readonly UTF8Encoding Utf8Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static byte[] Encode(MessageRow r)
    {
        var chat = Utf8Strict.GetBytes(r.ChatId);
        var kind = Utf8Strict.GetBytes(r.Kind);
        var messageId = Bytes(r.MessageId);
        var clientMsgId = Bytes(r.ClientMsgId);
        var user = Utf8Strict.GetBytes(r.SenderUserId);
        var device = Utf8Strict.GetBytes(r.SenderDeviceId);
        var body = Bytes(r.Body);
        var attachments = Bytes(r.AttachmentsJson);
        byte[][]? userIds = null;
        if (r.UserIds is not null)
        {
            userIds = new byte[r.UserIds.Length][];
            for (var i = 0; i < userIds.Length; i++)
            {
                userIds[i] = Utf8Strict.GetBytes(r.UserIds[i]);
            }
        }

        var title = Bytes(r.Title);
        var replyTo = Bytes(r.ReplyTo);
        var payloads = Bytes(r.PayloadsJson);
        var emoji = Bytes(r.Emoji);
        var size = 2 + (16 * 4) + chat.Length + 8 + kind.Length + Size(messageId) + Size(clientMsgId) + user.Length + device.Length
            + Size(body) + (attachments is null ? 0 : attachments.Length + 1) + (userIds is null ? 0 : CopyRowWriter.TextArraySize(userIds) - 4)
            + Size(title) + 8 + Size(replyTo) + (payloads is null ? 0 : payloads.Length + 1) + (r.TargetSeq is null ? 0 : 8) + Size(emoji);
        var buffer = new byte[size];
        var w = new CopyRowWriter(buffer);
        w.FieldCount(16);
        w.Bytes(chat);
        w.Int64(r.Seq);
        w.Bytes(kind);
        Nullable(ref w, messageId);
        Nullable(ref w, clientMsgId);
        w.Bytes(user);
        w.Bytes(device);
        Nullable(ref w, body);
        if (attachments is null)
        {
            w.Null();
        }
        else
        {
            w.Jsonb(attachments);
        }

        if (userIds is null)
        {
            w.Null();
        }
        else
        {
            w.TextArray(userIds);
        }

        Nullable(ref w, title);
        if (r.SentAt == DateTime.MinValue || r.SentAt == DateTime.MaxValue)
        {
            w.Int64(r.SentAt == DateTime.MinValue ? long.MinValue : long.MaxValue);
        }
        else
        {
            w.Timestamp(r.SentAt);
        }

        Nullable(ref w, replyTo);
        if (payloads is null)
        {
            w.Null();
        }
        else
        {
            w.Jsonb(payloads);
        }

        if (r.TargetSeq is { } target)
        {
            w.Int64(target);
        }
        else
        {
            w.Null();
        }

        Nullable(ref w, emoji);
        return w.Position == size ? buffer : throw new InvalidOperationException($"COPY row size {w.Position} != {size}");
    }

    private static byte[]? Bytes(string? value) => value is null ? null : Utf8Strict.GetBytes(value);

    private static int Size(byte[]? value) => value?.Length ?? 0;

    private static void Nullable(ref CopyRowWriter w, byte[]? value)
    {
        if (value is null)
        {
            w.Null();
        }
        else
        {
            w.Bytes(value);
        }
    }
}
