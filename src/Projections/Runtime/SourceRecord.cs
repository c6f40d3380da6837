using Confluent.Kafka;
using Messaging.Contracts.Serialization;

namespace Messaging.Projections.Runtime;

/// <summary>
/// A record as read from a topic (or from <c>dead_letters</c> when retried). <paramref name="Headers"/>
/// is the consumed record's own header list (a reference, not a copy: nothing allocated here), kept
/// for the trace context (<c>Kafka:TraceHeaders</c>); null where the record did not come from Kafka.
/// </summary>
internal readonly record struct SourceRecord(string Topic, int Partition, long Offset, string? Key, byte[]? Value, Headers? Headers = null);

/// <summary>A decoded record that a projection will apply.</summary>
internal readonly record struct ApplyRecord(SourceRecord Source, object Value);

/// <summary>
/// A decoded value that is not the contract record itself (a rebuild's pre-encoded row) names the
/// record type it came from, so a record parked from it is filed under its real type.
/// </summary>
internal interface IRecordTypeName
{
    string RecordType { get; }
}

/// <summary>A record that cannot be applied: parked in <c>dead_letters</c> and the partition moves on.</summary>
internal sealed record DeadRecord(SourceRecord Source, string? Type, string Error);

internal enum Disposition
{
    Apply,

    /// <summary>Unknown type (a newer producer), tombstone, or a record type this projection ignores: skipped, checkpoint advances.</summary>
    Skip,

    /// <summary>Malformed or an unsupported version: parked.</summary>
    DeadLetter,
}

internal readonly record struct Decision(Disposition Disposition, object? Value, string? Type, string? Error)
{
    public static Decision Skip(string? type) => new(Disposition.Skip, null, type, null);

    /// <summary>Maps the codec's verdict: unknown types are forward compatibility (skip), the rest is bad input (park).</summary>
    public static Decision From<T>(Decoded<T> decoded)
        where T : class => decoded.Status switch
        {
            DecodeStatus.Ok => new(Disposition.Apply, decoded.Value, decoded.Type, null),
            DecodeStatus.UnknownType => new(Disposition.Skip, null, decoded.Type, decoded.Error),
            _ => new(Disposition.DeadLetter, null, decoded.Type, decoded.Error ?? decoded.Status.ToString()),
        };
}
