using System.Buffers.Text;
using System.Globalization;

namespace Messaging.Bench.Connections;

/// <summary>
/// What the generator writes into every message's <c>clientMsgId</c> (and at the start of its
/// body): <c>b{step}.{chat}.{index}.{intendedMicros}</c>. The (chat, index) pair is the generator's
/// own name for the message, one-to-one with the messageId Edge assigns, so missing and duplicate
/// deliveries are counted without a lookup table; <c>intendedMicros</c> is when the open-loop
/// schedule meant to send it (microseconds on the generator's monotonic clock), the origin of the
/// latency every recipient records.
/// </summary>
public readonly record struct BenchMessageId(int Step, int Chat, long Index, long IntendedMicros)
{
    private const byte Marker = (byte)'b';
    private const byte Separator = (byte)'.';

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"b{Step}.{Chat}.{Index}.{IntendedMicros}");

    /// <summary>Parses the UTF-8 form; false (never throws) for anything the generator did not write.</summary>
    public static bool TryParse(ReadOnlySpan<byte> utf8, out BenchMessageId id)
    {
        id = default;
        if (utf8.Length < 8 || utf8[0] != Marker)
        {
            return false;
        }

        var rest = utf8[1..];
        if (!TryReadPart(ref rest, out var step)
            || !TryReadPart(ref rest, out var chat)
            || !TryReadPart(ref rest, out var index)
            || !Utf8Parser.TryParse(rest, out long intended, out var consumed)
            || consumed != rest.Length
            || step > int.MaxValue
            || chat > int.MaxValue)
        {
            return false;
        }

        id = new BenchMessageId((int)step, (int)chat, index, intended);
        return true;
    }

    private static bool TryReadPart(ref ReadOnlySpan<byte> rest, out long value)
    {
        value = 0;
        var end = rest.IndexOf(Separator);
        if (end <= 0 || !Utf8Parser.TryParse(rest[..end], out value, out var consumed) || consumed != end || value < 0)
        {
            return false;
        }

        rest = rest[(end + 1)..];
        return true;
    }
}
