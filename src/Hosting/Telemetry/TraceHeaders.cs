using System.Text;
using Confluent.Kafka;

namespace Messaging.Hosting.Telemetry;

/// <summary>
/// W3C trace context as a Kafka record header (<c>traceparent</c>), where the broker has headers
/// (<c>Kafka:TraceHeaders</c>, on in the <c>Modern</c> profile; Kafka 0.9 has none, so the
/// <c>Legacy09</c> profile keeps it inside the records). A reader takes the header and falls back
/// to the record's own field, so records of either profile, and of builds before the header,
/// continue their trace. Untraced records get no header: one null check, no allocation.
/// </summary>
public static class TraceHeaders
{
    /// <summary>The header name, as OpenTelemetry's Kafka instrumentations use it.</summary>
    public const string Traceparent = "traceparent";

    /// <summary>The headers to produce a record with: null when untraced or when the broker has no headers.</summary>
    public static Headers? Write(string? traceparent, bool enabled)
    {
        if (traceparent is null || !enabled)
        {
            return null;
        }

        return new Headers { { Traceparent, Encoding.ASCII.GetBytes(traceparent) } };
    }

    /// <summary>The record's trace context: its <c>traceparent</c> header (the last one, as Kafka clients read headers), else <paramref name="inRecord"/>.</summary>
    public static string? Read(Headers? headers, string? inRecord)
    {
        if (headers is null || headers.Count == 0 || !headers.TryGetLastBytes(Traceparent, out var value) || value is null || value.Length == 0)
        {
            return inRecord;
        }

        return Encoding.ASCII.GetString(value);
    }
}
