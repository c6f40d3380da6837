using Messaging.Contracts.Devices;
using Messaging.Contracts.Serialization;
using Messaging.Contracts.Topics;
using Messaging.Projections.Runtime;
using Parquet.Serialization;

namespace Messaging.Projections.Archive;

/// <summary>
/// <c>device.acks</c> in the archive (<see cref="AckRow"/>s under <c>Archive:AcksPrefix</c>):
/// the delivery times <c>chat.events</c> does not hold. Acks carry no content, so nothing is
/// erased from them.
/// </summary>
internal sealed class AcksFormat(ArchiveStore store, TopicNames names) : IArchiveFormat<DeliveryAcked>
{
    public string Topic => names.DeviceAcks;

    public string Group => "projections.archive-acks";

    public ArchiveStore Store => store;

    public DeliveryAcked? Decode(byte[]? value) =>
        value is not null && Codecs.Devices.Decode(value) is { IsOk: true, Value: DeliveryAcked ack } ? ack : null;

    public DateTime Hour(DeliveryAcked record) => ArchiveKeys.Hour(record.AckedAt);

    public async Task<(byte[] Parquet, ArchiveIndex Index)> EncodeAsync(IReadOnlyList<SourceRecord> records, IReadOnlyList<DeliveryAcked?> decoded, CancellationToken cancellationToken)
    {
        var rows = Rows(records, decoded);
        var index = new ArchiveIndex();
        foreach (var row in rows)
        {
            if (row is { ChatId: { } chat, Seq: long seq })
            {
                index.Add(chat, seq);
            }
        }

        using var stream = new MemoryStream();
        await ParquetSerializer.SerializeAsync(rows, stream, cancellationToken: cancellationToken);
        return (stream.ToArray(), index);
    }

    public Task<ArchiveManifest> BeforeWriteAsync(ArchiveManifest manifest, IReadOnlyList<DeliveryAcked?> decoded, CancellationToken cancellationToken) => Task.FromResult(manifest);

    public Task AssignedAsync(ArchiveManifest manifest, CancellationToken cancellationToken) => Task.CompletedTask;

    public void Recorded(ArchivedFile file, ArchiveIndex index)
    {
    }

    /// <summary>One row per record, in order. Pure.</summary>
    public static List<AckRow> Rows(IReadOnlyList<SourceRecord> records, IReadOnlyList<DeliveryAcked?> decoded)
    {
        var rows = new List<AckRow>(records.Count);
        for (var i = 0; i < records.Count; i++)
        {
            var record = records[i];
            var row = new AckRow { Partition = record.Partition, Offset = record.Offset, Key = record.Key, Value = record.Value };
            if (decoded[i] is { } ack)
            {
                row.Type = nameof(DeliveryAcked);
                row.V = ack.V;
                row.UserId = ack.UserId;
                row.DeviceId = ack.DeviceId;
                row.ChatId = ack.ChatId;
                row.Seq = ack.Seq;
                row.AckedAt = ack.AckedAt.UtcDateTime;
            }

            rows.Add(row);
        }

        return rows;
    }

    public static async Task<IList<AckRow>> DecodeAsync(Stream parquet, CancellationToken cancellationToken) =>
        (await ParquetSerializer.DeserializeAsync<AckRow>(parquet, cancellationToken: cancellationToken)).Data;
}
