namespace Messaging.Contracts.Delivery;

/// <summary>
/// A record a consumer could not decode or apply, parked on the <c>deadletter</c> topic with the
/// reason so its partition keeps moving and an operator can inspect or replay it.
/// </summary>
public sealed record ParkedRecord
{
    public string Type { get; init; } = "ParkedRecord";

    public int V { get; init; } = 1;

    public required string Consumer { get; init; }

    public required string SourceTopic { get; init; }

    public required int Partition { get; init; }

    public required long Offset { get; init; }

    public required string Reason { get; init; }

    public string? Key { get; init; }

    /// <summary>The original bytes (base64 in JSON).</summary>
    public required byte[] Value { get; init; }

    public required DateTimeOffset ParkedAt { get; init; }
}
