using Amazon;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Messaging.Contracts;
using Messaging.Contracts.Protocol;
using Microsoft.Extensions.Options;

namespace Messaging.Edge.Media;

/// <summary>
/// Pre-signs S3 URLs: clients PUT attachment bytes straight to storage and GET them from there;
/// Edge only signs (no bytes pass through it). Keys are <c>m/{uploader}/{uuidv7}</c>: the random
/// part makes a key unguessable, the uploader part lets <see cref="MediaAccess"/> answer the
/// uploader without a query. Who else may get a GET URL is <see cref="MediaAccess"/>'s decision.
/// </summary>
internal sealed class MediaUrls : IDisposable
{
    private readonly AmazonS3Client _s3;
    private readonly S3Options _options;
    private readonly TimeProvider _clock;
    private readonly Protocol _protocol;

    public MediaUrls(IOptions<S3Options> options, TimeProvider clock)
    {
        _options = options.Value;
        _clock = clock;
        var config = new AmazonS3Config
        {
            // S3-compatible servers (s3rver, MinIO) address buckets by path, not by host name.
            ForcePathStyle = true,
            AuthenticationRegion = _options.Region,
        };
        if (_options.ServiceUrl.Length > 0)
        {
            config.ServiceURL = _options.ServiceUrl;
        }
        else
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(_options.Region);
        }

        _protocol = _options.ServiceUrl.StartsWith("http://", StringComparison.OrdinalIgnoreCase) ? Protocol.HTTP : Protocol.HTTPS;
        _s3 = _options.AccessKey.Length > 0
            ? new AmazonS3Client(new BasicAWSCredentials(_options.AccessKey, _options.SecretKey), config)
            : new AmazonS3Client(config);
    }

    public long MaxAttachmentBytes => _options.MaxAttachmentBytes;

    /// <summary>A pre-signed PUT for a new key; the client must send the same Content-Type.</summary>
    public async Task<MediaUploadUrlFrame> UploadAsync(DeviceRef owner, UploadMediaFrame frame)
    {
        // User ids are [A-Za-z0-9._@+-] (Ids): safe in an S3 key and free of '/'.
        var key = MediaKeys.New(owner.UserId, Guid.CreateVersion7());
        var expires = _clock.GetUtcNow().AddMinutes(_options.UploadUrlLifetimeMinutes);
        var url = await _s3.GetPreSignedURLAsync(new GetPreSignedUrlRequest
        {
            BucketName = _options.Bucket,
            Key = key,
            Verb = HttpVerb.PUT,
            ContentType = frame.ContentType,
            Expires = expires.UtcDateTime,
            Protocol = _protocol,
        });
        return new MediaUploadUrlFrame { Id = frame.Id, Key = key, UploadUrl = url, ExpiresAt = expires };
    }

    /// <summary>A pre-signed GET for an existing key.</summary>
    public async Task<(string Url, DateTimeOffset ExpiresAt)> DownloadAsync(string key)
    {
        var expires = _clock.GetUtcNow().AddMinutes(_options.DownloadUrlLifetimeMinutes);
        var url = await _s3.GetPreSignedURLAsync(new GetPreSignedUrlRequest
        {
            BucketName = _options.Bucket,
            Key = key,
            Verb = HttpVerb.GET,
            Expires = expires.UtcDateTime,
            Protocol = _protocol,
        });
        return (url, expires);
    }

    public void Dispose() => _s3.Dispose();
}
