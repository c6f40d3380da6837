namespace Messaging.Projections.Runtime;

internal enum FailureKind
{
    /// <summary>The database or the connection, not the record: retry the page with backoff.</summary>
    Retry,

    /// <summary>The record's data (bad text, a value out of range, a constraint): park it and move on.</summary>
    Record,
}

internal static class FailureClassifier
{
    /// <summary>
    /// By SQLSTATE class: 22 data exception (e.g. a NUL character in a body, 22021), 23 integrity
    /// constraint, 54 program limit (e.g. a key too large for its index) are the record's fault.
    /// Anything else (connection, lock, serialization, missing table) would park every record
    /// of a healthy log, so it is retried instead.
    /// </summary>
    public static FailureKind Classify(string? sqlState) =>
        sqlState is { Length: 5 } && (sqlState.StartsWith("22", StringComparison.Ordinal) || sqlState.StartsWith("23", StringComparison.Ordinal) || sqlState.StartsWith("54", StringComparison.Ordinal))
            ? FailureKind.Record
            : FailureKind.Retry;
}
