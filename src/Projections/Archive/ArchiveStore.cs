using System.Net;
using Amazon;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Options;

namespace Messaging.Projections.Archive;

/// <summary>The archive's objects on S3: files and per-partition manifests.</summary>
internal sealed class ArchiveStore : IDisposable
{
    private readonly AmazonS3Client _s3;
    private readonly ArchiveOptions _options;
    private readonly bool _ownsClient = true;

    public ArchiveStore(IOptions<ArchiveOptions> options, IConfiguration configuration)
    {
        _options = options.Value;
        Prefix = _options.Prefix;
        // The endpoint and credentials default to section S3 (Edge's media settings, set by stack.sh env).
        var s3 = configuration.GetSection("S3");
        var serviceUrl = _options.ServiceUrl ?? s3["ServiceUrl"] ?? "";
        var region = _options.Region ?? s3["Region"] ?? "us-east-1";
        var accessKey = _options.AccessKey ?? s3["AccessKey"] ?? "";
        var secretKey = _options.SecretKey ?? s3["SecretKey"] ?? "";
        var config = new AmazonS3Config
        {
            // S3-compatible servers (s3rver, MinIO) address buckets by path, not by host name.
            ForcePathStyle = true,
            AuthenticationRegion = region,
            // Checksums only where S3 requires them: the SDK's default (4.x) sends bodies
            // aws-chunked with a trailing CRC, which s3rver stored verbatim (a manifest read back
            // began with the chunk header, and GETs failed "Expected hash not equal to calculated hash").
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (serviceUrl.Length > 0)
        {
            config.ServiceURL = serviceUrl;
        }
        else
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(region);
        }

        _s3 = accessKey.Length > 0 ? new AmazonS3Client(new BasicAWSCredentials(accessKey, secretKey), config) : new AmazonS3Client(config);
    }

    private ArchiveStore(ArchiveStore parent, string prefix)
    {
        _s3 = parent._s3;
        _options = parent._options;
        _ownsClient = false;
        Prefix = prefix;
    }

    /// <summary>The key prefix of this store's files and manifests (<c>Archive:Prefix</c>, or <c>Archive:AcksPrefix</c> for <see cref="Acks"/>).</summary>
    public string Prefix { get; }

    /// <summary>The archive of <c>device.acks</c>: the same bucket and client under <c>Archive:AcksPrefix</c>.</summary>
    public ArchiveStore Acks => field ??= new ArchiveStore(this, _options.AcksPrefix);

    public async Task EnsureBucketAsync(CancellationToken cancellationToken)
    {
        if (!_options.CreateBucket)
        {
            return;
        }

        try
        {
            await _s3.PutBucketAsync(new PutBucketRequest { BucketName = _options.Bucket }, cancellationToken);
        }
        catch (AmazonS3Exception ex) when (ex.ErrorCode is "BucketAlreadyOwnedByYou" or "BucketAlreadyExists")
        {
        }
    }

    /// <summary>One partition's manifest: its entries (one list) and its pending file.</summary>
    public async Task<ArchiveManifest> LoadManifestAsync(int partition, CancellationToken cancellationToken)
    {
        var files = await ListEntriesAsync(ArchiveKeys.PartitionPrefix(Prefix, partition), cancellationToken);
        var manifest = ArchiveManifest.FromEntries(partition, files.TryGetValue(partition, out var list) ? list : []);
        var pending = await GetTextAsync(ArchiveKeys.Pending(Prefix, partition), cancellationToken);
        var named = pending is null ? null : ArchiveKeys.ParseEntry(Prefix, pending);
        // A pending file already recorded (the archiver does not delete the name) is history.
        return named is not null && named.FirstOffset >= (manifest.NextOffset ?? 0) ? manifest with { Pending = named } : manifest;
    }

    /// <summary>Every partition's recorded files (one listing; pending names are the archiver's business).</summary>
    public async Task<SortedDictionary<int, ArchiveManifest>> LoadManifestsAsync(CancellationToken cancellationToken)
    {
        var result = new SortedDictionary<int, ArchiveManifest>();
        foreach (var (partition, files) in await ListEntriesAsync(ArchiveKeys.ManifestPrefix(Prefix), cancellationToken))
        {
            result[partition] = ArchiveManifest.FromEntries(partition, files);
        }

        return result;
    }

    /// <summary>Names the file about to be written (before it is).</summary>
    public Task NamePendingAsync(ArchivedFile file, CancellationToken cancellationToken) =>
        PutAsync(ArchiveKeys.Pending(Prefix, file.Partition), System.Text.Encoding.UTF8.GetBytes(ArchiveKeys.Entry(Prefix, file)), "text/plain", cancellationToken);

    /// <summary>Records a written file: from now on its range is archived. The entry's body is the file's key, then its chat index (<see cref="ArchiveIndex"/>).</summary>
    public Task RecordAsync(ArchivedFile file, ArchiveIndex index, CancellationToken cancellationToken) =>
        PutAsync(ArchiveKeys.Entry(Prefix, file), System.Text.Encoding.UTF8.GetBytes(index.Format(file.Key)), "text/plain", cancellationToken);

    /// <summary>A recorded file's chat index from its entry; null when the entry has none (written before entries carried one).</summary>
    public async Task<ArchiveIndex?> GetIndexAsync(ArchivedFile file, CancellationToken cancellationToken) =>
        await GetTextAsync(ArchiveKeys.Entry(Prefix, file), cancellationToken) is { } text ? ArchiveIndex.Parse(text) : null;

    /// <summary>Deletes a superseded revision: its entry first (readers stop listing it), then its file.</summary>
    public async Task DeleteAsync(ArchivedFile file, CancellationToken cancellationToken)
    {
        await _s3.DeleteObjectAsync(_options.Bucket, ArchiveKeys.Entry(Prefix, file), cancellationToken);
        await _s3.DeleteObjectAsync(_options.Bucket, file.Key, cancellationToken);
    }

    /// <summary>Every key below the archive's prefix (tests: what S3 holds, recorded or not).</summary>
    public async Task<List<string>> ListKeysAsync(CancellationToken cancellationToken)
    {
        var keys = new List<string>();
        await foreach (var key in KeysAsync(Prefix + "/", cancellationToken))
        {
            keys.Add(key);
        }

        return keys;
    }

    public Task PutFileAsync(string key, byte[] parquet, CancellationToken cancellationToken) =>
        PutAsync(key, parquet, "application/vnd.apache.parquet", cancellationToken);

    /// <summary>A file's bytes, in memory (files are bounded by <c>MaxBytesPerFile</c>).</summary>
    public async Task<MemoryStream> GetFileAsync(string key, CancellationToken cancellationToken)
    {
        using var response = await _s3.GetObjectAsync(_options.Bucket, key, cancellationToken);
        var buffer = new MemoryStream(response.ContentLength > 0 ? (int)Math.Min(response.ContentLength, int.MaxValue) : 0);
        await response.ResponseStream.CopyToAsync(buffer, cancellationToken);
        buffer.Position = 0;
        return buffer;
    }

    /// <summary>Copies every recorded file (the manifests' files, nothing else) below <paramref name="directory"/>, keeping the keys' folders; returns the paths.</summary>
    public async Task<List<string>> DownloadAsync(string directory, CancellationToken cancellationToken)
    {
        var paths = new List<string>();
        foreach (var manifest in (await LoadManifestsAsync(cancellationToken)).Values)
        {
            foreach (var file in manifest.Files)
            {
                var path = Path.Combine(directory, file.Key);
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                // Recorded files never change: one already downloaded is kept.
                if (!File.Exists(path))
                {
                    await using var source = await GetFileAsync(file.Key, cancellationToken);
                    await using var target = File.Create(path);
                    await source.CopyToAsync(target, cancellationToken);
                }

                paths.Add(path);
            }
        }

        // A revision replaced a file (an erasure of deleted messages' content): its local copy
        // goes too, or queries would read the text and count its rows twice.
        var recorded = new HashSet<string>(paths, StringComparer.Ordinal);
        var local = Path.Combine(directory, Prefix);
        if (Directory.Exists(local))
        {
            foreach (var stale in Directory.EnumerateFiles(local, "*.parquet", SearchOption.AllDirectories))
            {
                if (!recorded.Contains(stale))
                {
                    File.Delete(stale);
                }
            }
        }

        return paths;
    }

    public void Dispose()
    {
        if (_ownsClient)
        {
            _s3.Dispose();
        }
    }

    private async Task<Dictionary<int, List<ArchivedFile>>> ListEntriesAsync(string prefix, CancellationToken cancellationToken)
    {
        var result = new Dictionary<int, List<ArchivedFile>>();
        try
        {
            // Keys come in order: zero-padded offsets, so each partition's files in offset order.
            await foreach (var key in KeysAsync(prefix, cancellationToken))
            {
                if (ArchiveKeys.ParseEntry(Prefix, key) is { } file)
                {
                    if (!result.TryGetValue(file.Partition, out var list))
                    {
                        result[file.Partition] = list = [];
                    }

                    list.Add(file);
                }
            }
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            // No bucket: no archive.
        }

        return result;
    }

    private async IAsyncEnumerable<string> KeysAsync(string prefix, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var request = new ListObjectsV2Request { BucketName = _options.Bucket, Prefix = prefix };
        ListObjectsV2Response response;
        do
        {
            response = await _s3.ListObjectsV2Async(request, cancellationToken);
            foreach (var o in response.S3Objects ?? [])
            {
                yield return o.Key;
            }

            request.ContinuationToken = response.NextContinuationToken;
        }
        while (response.IsTruncated == true);
    }

    private async Task<string?> GetTextAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _s3.GetObjectAsync(_options.Bucket, key, cancellationToken);
            using var reader = new StreamReader(response.ResponseStream);
            return await reader.ReadToEndAsync(cancellationToken);
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    private async Task PutAsync(string key, byte[] bytes, string contentType, CancellationToken cancellationToken)
    {
        using var body = new MemoryStream(bytes, writable: false);
        await _s3.PutObjectAsync(new PutObjectRequest { BucketName = _options.Bucket, Key = key, InputStream = body, ContentType = contentType, AutoCloseStream = false, UseChunkEncoding = false }, cancellationToken);
    }
}
