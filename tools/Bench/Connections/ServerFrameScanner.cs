using System.Text.Json;

namespace Messaging.Bench.Connections;

public enum ScannedFrameKind
{
    /// <summary>Any other frame: decode it fully with <c>Codecs.ServerFrames</c>.</summary>
    Other,

    /// <summary>A pushed <c>message</c> (live or from <c>sync</c>).</summary>
    Message,

    /// <summary>A <c>message.accepted</c> reply: the send is durable in the log.</summary>
    MessageAccepted,
}

/// <summary>The few fields the generator needs from a frame, read without materialising it.</summary>
public readonly ref struct ScannedServerFrame
{
    public ScannedServerFrame(ScannedFrameKind kind, long seq, bool hasBenchId, BenchMessageId benchId, ReadOnlySpan<byte> utf8)
    {
        Kind = kind;
        Seq = seq;
        HasBenchId = hasBenchId;
        BenchId = benchId;
        Utf8 = utf8;
    }

    public ScannedFrameKind Kind { get; }

    /// <summary>The chat position of a <c>message</c> (0 when absent).</summary>
    public long Seq { get; }

    /// <summary>Whether <c>clientMsgId</c> is one the generator wrote (<see cref="BenchId"/> is then set).</summary>
    public bool HasBenchId { get; }

    public BenchMessageId BenchId { get; }

    /// <summary>The whole frame, for callers that want to decode it after all.</summary>
    public ReadOnlySpan<byte> Utf8 { get; }
}

/// <summary>
/// Reads <c>type</c>, <c>seq</c> and <c>clientMsgId</c> of a server frame with a forward-only
/// <see cref="Utf8JsonReader"/>: no allocation per delivery. The generator shares two cores with
/// the system it measures, so every microsecond it spends per delivery is taken from the Edge.
/// </summary>
public static class ServerFrameScanner
{
    /// <summary>Longest clientMsgId the generator writes (four numbers and separators).</summary>
    private const int MaxBenchIdLength = 96;

    public static ScannedServerFrame Scan(ReadOnlySpan<byte> utf8)
    {
        var kind = ScannedFrameKind.Other;
        long seq = 0;
        var hasBenchId = false;
        BenchMessageId benchId = default;
        try
        {
            var reader = new Utf8JsonReader(utf8);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return new(ScannedFrameKind.Other, 0, false, default, utf8);
            }

            Span<byte> scratch = stackalloc byte[MaxBenchIdLength];
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("type"u8))
                {
                    reader.Read();
                    kind = reader.ValueTextEquals("message"u8) ? ScannedFrameKind.Message
                        : reader.ValueTextEquals("message.accepted"u8) ? ScannedFrameKind.MessageAccepted
                        : ScannedFrameKind.Other;
                    if (kind == ScannedFrameKind.Other)
                    {
                        return new(kind, 0, false, default, utf8);
                    }
                }
                else if (reader.ValueTextEquals("seq"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.Number)
                    {
                        reader.TryGetInt64(out seq);
                    }
                }
                else if (reader.ValueTextEquals("clientMsgId"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.String && ValueLength(ref reader) <= MaxBenchIdLength)
                    {
                        var written = reader.CopyString(scratch);
                        hasBenchId = BenchMessageId.TryParse(scratch[..written], out benchId);
                    }
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
        }
        catch (JsonException)
        {
            return new(ScannedFrameKind.Other, 0, false, default, utf8);
        }

        return new(kind, seq, hasBenchId, benchId, utf8);
    }

    private static int ValueLength(ref Utf8JsonReader reader) =>
        reader.HasValueSequence ? (int)reader.ValueSequence.Length : reader.ValueSpan.Length;
}
