using Messaging.Projections.Runtime;

namespace Messaging.Projections.Archive;

/// <summary>
/// What the archiver needs to know of one topic it copies: where its files go, how a record
/// decodes and which hour it belongs to, how a file's rows are written, and what must happen
/// to earlier files before one is written (an erasure, for <c>chat.events</c>).
/// </summary>
/// <typeparam name="T">The decoded record.</typeparam>
internal interface IArchiveFormat<T>
    where T : class
{
    /// <summary>The topic archived.</summary>
    string Topic { get; }

    /// <summary>The consumer group's name after the topic prefix.</summary>
    string Group { get; }

    /// <summary>The store under this topic's key prefix.</summary>
    ArchiveStore Store { get; }

    /// <summary>The record, or null when it does not decode (archived as it is).</summary>
    T? Decode(byte[]? value);

    /// <summary>The hour folder of a decoded record (UTC, truncated).</summary>
    DateTime Hour(T record);

    /// <summary>A file's bytes and its chat index (kept in its manifest entry).</summary>
    Task<(byte[] Parquet, ArchiveIndex Index)> EncodeAsync(IReadOnlyList<SourceRecord> records, IReadOnlyList<T?> decoded, CancellationToken cancellationToken);

    /// <summary>Runs after the file is named and before it is written (so that a crash runs it again); returns the manifest, revised or not.</summary>
    Task<ArchiveManifest> BeforeWriteAsync(ArchiveManifest manifest, IReadOnlyList<T?> decoded, CancellationToken cancellationToken);

    /// <summary>A partition was assigned: tidy what a crash left in its manifest.</summary>
    Task AssignedAsync(ArchiveManifest manifest, CancellationToken cancellationToken);

    /// <summary>A file was recorded with this index.</summary>
    void Recorded(ArchivedFile file, ArchiveIndex index);
}
