using System.ComponentModel.DataAnnotations;

namespace Messaging.Edge.Media;

/// <summary>Attachment storage (section <c>S3</c>): Edge only signs URLs, the bytes go straight to S3.</summary>
public sealed class S3Options
{
    public const string Section = "S3";

    /// <summary>Endpoint of an S3-compatible server (path-style addressing); empty for AWS itself.</summary>
    public string ServiceUrl { get; set; } = "";

    [Required]
    public string Bucket { get; set; } = "messaging-media";

    /// <summary>Static credentials; when empty the SDK's default chain (environment, instance role) is used.</summary>
    public string AccessKey { get; set; } = "";

    public string SecretKey { get; set; } = "";

    /// <summary>Signing region (S3-compatible servers accept any).</summary>
    [Required]
    public string Region { get; set; } = "us-east-1";

    [Range(1, 7 * 24 * 60)]
    public int UploadUrlLifetimeMinutes { get; set; } = 15;

    [Range(1, 7 * 24 * 60)]
    public int DownloadUrlLifetimeMinutes { get; set; } = 15;

    [Range(1, long.MaxValue)]
    public long MaxAttachmentBytes { get; set; } = 100L * 1024 * 1024;
}
