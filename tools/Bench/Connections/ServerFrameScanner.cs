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

    /// <summary>
    /// A <c>receipt</c> push, only counted: in groups of 1,024 one lists up to 1,024 users, and
    /// decoding each cost 11.6 % of a generator's samples (docs/benchmarks.md).
    /// </summary>
    Receipt,
}

/// <summary>
/// The hop timestamps a live <c>message</c> carries (UTC ticks, 0 when absent): Edge accepted the
/// send (<c>acceptedAt</c>), the Router decided it (<c>sentAt</c>), the receiving Edge queued the
/// push (<c>pushedAt</c>, with <c>Edge:HopTimestamps</c>).
/// </summary>
public readonly record struct HopTimestamps(long AcceptedAtTicks, long DecidedAtTicks, long PushedAtTicks)
{
    public bool IsComplete => AcceptedAtTicks != 0 && DecidedAtTicks != 0 && PushedAtTicks != 0;
}

/// <summary>The few fields the generator needs from a frame, read without materialising it.</summary>
public readonly ref struct ScannedServerFrame
{
    public ScannedServerFrame(ScannedFrameKind kind, long seq, bool hasBenchId, BenchMessageId benchId, ReadOnlySpan<byte> utf8, HopTimestamps hops = default)
    {
        Kind = kind;
        Seq = seq;
        HasBenchId = hasBenchId;
        BenchId = benchId;
        Utf8 = utf8;
        Hops = hops;
    }

    public HopTimestamps Hops { get; }

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
/// Reads <c>type</c>, <c>seq</c>, <c>clientMsgId</c> and the hop timestamps of a server frame with a forward-only
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
        long acceptedAt = 0, decidedAt = 0, pushedAt = 0;
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
                        : reader.ValueTextEquals("receipt"u8) ? ScannedFrameKind.Receipt
                        : ScannedFrameKind.Other;
                    if (kind is ScannedFrameKind.Other or ScannedFrameKind.Receipt)
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
                else if (reader.ValueTextEquals("sentAt"u8))
                {
                    decidedAt = ReadTicks(ref reader);
                }
                else if (reader.ValueTextEquals("acceptedAt"u8))
                {
                    acceptedAt = ReadTicks(ref reader);
                }
                else if (reader.ValueTextEquals("pushedAt"u8))
                {
                    pushedAt = ReadTicks(ref reader);
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

        return new(kind, seq, hasBenchId, benchId, utf8, new HopTimestamps(acceptedAt, decidedAt, pushedAt));
    }

    private static long ReadTicks(ref Utf8JsonReader reader)
    {
        reader.Read();
        return reader.TokenType == JsonTokenType.String && reader.TryGetDateTimeOffset(out var at) ? at.UtcTicks : 0;
    }

    private static int ValueLength(ref Utf8JsonReader reader) =>
        reader.HasValueSequence ? (int)reader.ValueSequence.Length : reader.ValueSpan.Length;
}
