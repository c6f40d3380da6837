using System.Text;
using System.Text.Json;
using Messaging.Contracts;
using Messaging.Contracts.Protocol;
using Messaging.Edge.Sockets;

namespace Messaging.Edge.Delivery;

/// <summary>
/// The receipts routed to a chat's senders (<c>ReceiptsRouted</c>) become the client's
/// <c>receipt</c> frames straight from the record's bytes: each receipt (<c>{userId, seq, at}</c>,
/// the same type in the record and the frame) is copied as it is written, and a frame for a user
/// who has a receipt of their own in the record leaves that one out. Decoding every receipt into a
/// <see cref="UserReceipt"/> and its user id, to encode them again, was ~29 % of the bytes an Edge
/// node allocated per copy in groups of 1,024 (nineteenth session's allocation trace, after the
/// hand-written reader).
/// <para>Anything else returns false and takes the general path, which decodes, checks and
/// reports: another record type or schema version, a receipt with a property this reader does not
/// know or a field missing or of the wrong JSON type, malformed JSON. The frames are the general
/// path's up to property order; a unit test compares the two, and another fails when
/// <c>ReceiptsRouted</c> or <see cref="UserReceipt"/> gains a property.</para>
/// Not thread-safe: one per delivery loop.
/// </summary>
internal sealed class ReceiptFrameTranscoder : IDisposable
{
    private readonly Utf8JsonWriter _writer = new(Stream.Null, new JsonWriterOptions { SkipValidation = true });
    private readonly ListedDevices _devices = new();
    private readonly List<Receipt> _receipts = [];
    private Range _chatId;
    private Range _state;
    private byte[] _user = new byte[128];

    [Flags]
    private enum Fields
    {
        None = 0,
        UserId = 1,
        Seq = 2,
        At = 4,
        All = UserId | Seq | At,
    }

    /// <summary>The devices the last read record lists.</summary>
    public int DeviceCount => _devices.Count;

    /// <summary>The receipts the last read record carries.</summary>
    public int ReceiptCount => _receipts.Count;

    /// <summary>The <paramref name="index"/>-th address of the last read <paramref name="record"/>, in a buffer reused by the next call.</summary>
    public ReadOnlySpan<char> Device(ReadOnlySpan<byte> record, int index) => _devices.Get(record, index);

    /// <summary>Reads <paramref name="record"/> when it is a <c>ReceiptsRouted</c> this reader fully understands; false (and nothing kept) otherwise.</summary>
    public bool TryRead(ReadOnlySpan<byte> record)
    {
        _devices.Clear();
        _receipts.Clear();
        try
        {
            if (TryReadRecord(record))
            {
                return true;
            }
        }
        catch (JsonException)
        {
            // Malformed JSON: the general path reports it.
        }

        _devices.Clear();
        _receipts.Clear();
        return false;
    }

    /// <summary>Which receipt of the last read <paramref name="record"/> is <paramref name="userId"/>'s, or -1.</summary>
    public int IndexOf(ReadOnlySpan<byte> record, string userId)
    {
        var max = Encoding.UTF8.GetMaxByteCount(userId.Length);
        if (_user.Length < max)
        {
            _user = new byte[max];
        }

        var utf8 = _user.AsSpan(0, Encoding.UTF8.GetBytes(userId, _user));
        for (var i = 0; i < _receipts.Count; i++)
        {
            var receipt = _receipts[i];
            if (receipt.UnescapedUser is { } unescaped
                ? string.Equals(unescaped, userId, StringComparison.Ordinal)
                : record.Slice(receipt.UserStart, receipt.UserLength).SequenceEqual(utf8))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>
    /// The <c>receipt</c> frame of the last read <paramref name="record"/>, without the receipts of
    /// the user whose receipt is at <paramref name="skip"/> (-1: with all of them); null when none
    /// is left to show.
    /// </summary>
    public SharedFrame? Frame(ReadOnlySpan<byte> record, int skip)
    {
        var output = new PooledBufferWriter(64 + record.Length);
        try
        {
            _writer.Reset(output);
            _writer.WriteStartObject();
            _writer.WriteString("type"u8, "receipt"u8);
            _writer.WritePropertyName("chatId"u8);
            _writer.WriteRawValue(record[_chatId], skipInputValidation: true);
            _writer.WritePropertyName("state"u8);
            _writer.WriteRawValue(record[_state], skipInputValidation: true);
            _writer.WriteStartArray("receipts"u8);
            var written = 0;
            for (var i = 0; i < _receipts.Count; i++)
            {
                if (skip < 0 || !SameUser(record, i, skip))
                {
                    _writer.WriteRawValue(record[_receipts[i].Value], skipInputValidation: true);
                    written++;
                }
            }

            if (written == 0)
            {
                return null;
            }

            _writer.WriteEndArray();
            _writer.WriteEndObject();
            _writer.Flush();
            var (buffer, length) = output.Detach();
            return SharedFrame.FromEncoded(buffer, length, null, 0, nameof(ReceiptFrame));
        }
        finally
        {
            _writer.Reset(Stream.Null);
            output.Release();
        }
    }

    public void Dispose() => _writer.Dispose();

    private bool TryReadRecord(ReadOnlySpan<byte> record)
    {
        var reader = new Utf8JsonReader(record);
        if (!RecordJson.ReadTypeIs(ref reader, "ReceiptsRouted"u8))
        {
            return false;
        }

        bool sawDevices = false, sawReceipts = false, sawChat = false, sawState = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("receipts"u8))
            {
                if (sawReceipts || !TryReadReceipts(ref reader))
                {
                    return false;
                }

                sawReceipts = true;
            }
            else if (reader.ValueTextEquals("devices"u8))
            {
                if (sawDevices || !_devices.TryRead(ref reader))
                {
                    return false;
                }

                sawDevices = true;
            }
            else if (reader.ValueTextEquals("chatId"u8))
            {
                if (!reader.Read() || reader.TokenType != JsonTokenType.String)
                {
                    return false;
                }

                _chatId = RecordJson.Raw(ref reader);
                sawChat = true;
            }
            else if (reader.ValueTextEquals("state"u8))
            {
                if (!reader.Read() || reader.TokenType != JsonTokenType.String)
                {
                    return false;
                }

                _state = RecordJson.Raw(ref reader);
                sawState = true;
            }
            else if (reader.ValueTextEquals("v"u8))
            {
                if (!RecordJson.ReadVersionIs(ref reader, SchemaVersions.NodeDeliveries))
                {
                    return false;
                }
            }
            else
            {
                reader.Skip();
            }
        }

        return reader.TokenType == JsonTokenType.EndObject && sawDevices && sawReceipts && sawChat && sawState;
    }

    /// <summary>Reads the receipts array the reader's next token starts, noting where each receipt and its user id are.</summary>
    private bool TryReadReceipts(ref Utf8JsonReader reader)
    {
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray)
        {
            return false;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
        {
            var start = (int)reader.TokenStartIndex;
            var seen = Fields.None;
            int userStart = 0, userLength = 0;
            string? unescaped = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("userId"u8))
                {
                    if (!reader.Read() || reader.TokenType != JsonTokenType.String)
                    {
                        return false;
                    }

                    if (reader.ValueIsEscaped)
                    {
                        unescaped = reader.GetString();
                    }
                    else
                    {
                        userStart = (int)reader.TokenStartIndex + 1;
                        userLength = reader.ValueSpan.Length;
                    }

                    seen |= Fields.UserId;
                }
                else if (reader.ValueTextEquals("seq"u8))
                {
                    if (!reader.Read() || reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out _))
                    {
                        return false;
                    }

                    seen |= Fields.Seq;
                }
                else if (reader.ValueTextEquals("at"u8))
                {
                    if (!reader.Read() || reader.TokenType != JsonTokenType.String || !reader.TryGetDateTimeOffset(out _))
                    {
                        return false;
                    }

                    seen |= Fields.At;
                }
                else
                {
                    // Copied as they are, a property this reader does not know would reach clients unchecked.
                    return false;
                }
            }

            if (reader.TokenType != JsonTokenType.EndObject || seen != Fields.All)
            {
                return false;
            }

            _receipts.Add(new Receipt(start..(int)reader.BytesConsumed, userStart, userLength, unescaped));
        }

        return reader.TokenType == JsonTokenType.EndArray;
    }

    private bool SameUser(ReadOnlySpan<byte> record, int i, int j)
    {
        if (i == j)
        {
            return true;
        }

        var (a, b) = (_receipts[i], _receipts[j]);
        return a.UnescapedUser is null && b.UnescapedUser is null
            ? record.Slice(a.UserStart, a.UserLength).SequenceEqual(record.Slice(b.UserStart, b.UserLength))
            : string.Equals(a.UnescapedUser ?? Encoding.UTF8.GetString(record.Slice(a.UserStart, a.UserLength)), b.UnescapedUser ?? Encoding.UTF8.GetString(record.Slice(b.UserStart, b.UserLength)), StringComparison.Ordinal);
    }

    /// <summary>Where a receipt is in the record, and its user id (in place, or the string when it had JSON escapes).</summary>
    private readonly record struct Receipt(Range Value, int UserStart, int UserLength, string? UnescapedUser);
}
