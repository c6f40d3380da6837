using System.ComponentModel.DataAnnotations;

namespace Messaging.Projections.Archive;

/// <summary>Section <c>Archive</c>: the archiver of <c>chat.events</c> to Parquet files on S3 (docs/operations.md, "Archive").</summary>
public sealed class ArchiveOptions : IValidatableObject
{
    public const string Section = "Archive";

    /// <summary>
    /// Run the archiver in this Projections process. Off by default: it needs S3, and a topic
    /// whose retention is shortened must have it on (else what expires is gone).
    /// </summary>
    public bool Enabled { get; set; }

    [Required]
    public string Bucket { get; set; } = "messaging-archive";

    /// <summary>Key prefix of the archive: files under <c>{Prefix}/date=…/hour=…/</c>, manifests under <c>{Prefix}/_manifest/</c>.</summary>
    [Required]
    public string Prefix { get; set; } = "chat-events/v1";

    /// <summary>
    /// Archive <c>device.acks</c> too (when <see cref="Enabled"/>): the delivery times the
    /// analytics' delivery lag needs (docs/analytics.md). Acks are one record per device and
    /// chat acknowledged, several per message delivered, so this archive outgrows the events'.
    /// </summary>
    public bool ArchiveAcks { get; set; } = true;

    /// <summary>Key prefix of the <c>device.acks</c> archive (same bucket, same layout as <see cref="Prefix"/>).</summary>
    [Required]
    public string AcksPrefix { get; set; } = "device-acks/v1";

    /// <summary>Create the bucket at start when it does not exist.</summary>
    public bool CreateBucket { get; set; } = true;

    /// <summary>A file is closed after this many records.</summary>
    [Range(1, 10_000_000)]
    public int MaxRecordsPerFile { get; set; } = 100_000;

    /// <summary>A file is closed once its record values add up to this many bytes (before compression).</summary>
    [Range(1024, 1L << 31)]
    public long MaxBytesPerFile { get; set; } = 64L * 1024 * 1024;

    /// <summary>A file is closed this long after its first record arrived, however small: how far the archive trails the topic.</summary>
    [Range(1, 24 * 3600)]
    public int MaxFileAgeSeconds { get; set; } = 300;

    /// <summary>Wait for a record before checking the files' ages (ms).</summary>
    [Range(1, 60_000)]
    public int PollMs { get; set; } = 500;

    /// <summary>
    /// An archiver's fetch waits for this many bytes or <see cref="FetchWaitMaxMs"/>: its files stay
    /// open for minutes, so nothing waits on it. With librdkafka's 1-byte default the two archivers
    /// fetched ~85 times a second at 500 sends/s (docs/benchmarks.md, "sixth session").
    /// </summary>
    [Range(1, 64 * 1024 * 1024)]
    public int FetchMinBytes { get; set; } = 1_048_576;

    /// <summary>The longest an archiver's fetch waits for <see cref="FetchMinBytes"/> (ms).</summary>
    [Range(1, 60_000)]
    public int FetchWaitMaxMs { get; set; } = 1_000;

    /// <summary>First back-off after an S3 error; doubles up to <see cref="MaxRetryBackoffMs"/>.</summary>
    [Range(1, 600_000)]
    public int RetryBackoffMs { get; set; } = 500;

    [Range(1, 600_000)]
    public int MaxRetryBackoffMs { get; set; } = 30_000;

    /// <summary>S3-compatible endpoint (path-style); empty for AWS. Defaults to section <c>S3</c>'s, like the credentials below.</summary>
    public string? ServiceUrl { get; set; }

    public string? AccessKey { get; set; }

    public string? SecretKey { get; set; }

    public string? Region { get; set; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Prefix.StartsWith('/') || Prefix.EndsWith('/'))
        {
            yield return new ValidationResult("Archive:Prefix must not start or end with '/'.", [nameof(Prefix)]);
        }

        if (AcksPrefix.StartsWith('/') || AcksPrefix.EndsWith('/'))
        {
            yield return new ValidationResult("Archive:AcksPrefix must not start or end with '/'.", [nameof(AcksPrefix)]);
        }

        // Each archive's files are found below its prefix (analytics' local copies too): neither may lie inside the other.
        if ((AcksPrefix + "/").StartsWith(Prefix + "/", StringComparison.Ordinal) || (Prefix + "/").StartsWith(AcksPrefix + "/", StringComparison.Ordinal))
        {
            yield return new ValidationResult("Archive:AcksPrefix and Archive:Prefix must not contain one another.", [nameof(AcksPrefix)]);
        }

        if (MaxRetryBackoffMs < RetryBackoffMs)
        {
            yield return new ValidationResult("Archive:MaxRetryBackoffMs must be >= RetryBackoffMs.", [nameof(MaxRetryBackoffMs)]);
        }
    }
}
