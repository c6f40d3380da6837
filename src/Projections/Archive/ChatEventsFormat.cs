using Messaging.Contracts.Events;
using Messaging.Contracts.Topics;
using Messaging.Projections.Runtime;

namespace Messaging.Projections.Archive;

/// <summary><c>chat.events</c> in the archive: <see cref="ArchiveRow"/>s under <c>Archive:Prefix</c>, deleted messages erased from earlier files (<see cref="ArchiveEraser"/>).</summary>
internal sealed class ChatEventsFormat(ArchiveStore store, TopicNames names, ILogger<ChatEventsFormat> logger) : IArchiveFormat<ChatEvent>
{
    private readonly ArchiveEraser _eraser = new(store, names.ChatEvents, logger);

    public string Topic => names.ChatEvents;

    public string Group => "projections.archive";

    public ArchiveStore Store => store;

    public ChatEvent? Decode(byte[]? value) => ArchiveFile.Decode(value);

    public DateTime Hour(ChatEvent record) => ArchiveKeys.Hour(record.OccurredAt);

    public async Task<(byte[] Parquet, ArchiveIndex Index)> EncodeAsync(IReadOnlyList<SourceRecord> records, IReadOnlyList<ChatEvent?> decoded, CancellationToken cancellationToken)
    {
        var rows = ArchiveFile.Rows(records, decoded);
        return (await ArchiveFile.EncodeAsync(rows, cancellationToken), ArchiveIndex.Of(rows));
    }

    public async Task<ArchiveManifest> BeforeWriteAsync(ArchiveManifest manifest, IReadOnlyList<ChatEvent?> decoded, CancellationToken cancellationToken)
    {
        var targets = ArchiveEraser.Targets(decoded);
        return targets.Count == 0 ? manifest : await _eraser.EraseAsync(manifest, targets, cancellationToken);
    }

    public Task AssignedAsync(ArchiveManifest manifest, CancellationToken cancellationToken) => _eraser.CleanUpAsync(manifest, cancellationToken);

    public void Recorded(ArchivedFile file, ArchiveIndex index) => _eraser.Recorded(file, index);
}
