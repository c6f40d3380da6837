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
internal sealed class AcksFormat(ArchiveStore store, TopicNames names) : IArchiveFormat<DeviceRecord>
{
    public string Topic => names.DeviceAcks;

    public string Group => "projections.archive-acks";

    public ArchiveStore Store => store;

    public DeviceRecord? Decode(byte[]? value) =>
        value is not null && Codecs.Devices.Decode(value) is { IsOk: true, Value: DeliveryAcked or DeliveriesAcked } decoded ? decoded.Value : null;

    /// <summary>A batch goes under the hour of its first ack (a batch spans <c>Edge:AckBatchMs</c>).</summary>
    public DateTime Hour(DeviceRecord record) => ArchiveKeys.Hour(record switch
    {
        DeliveryAcked ack => ack.AckedAt,
        DeliveriesAcked { Acks: [var first, ..] } => first.AckedAt,
        _ => DateTimeOffset.UnixEpoch,
    });

    public async Task<(byte[] Parquet, ArchiveIndex Index)> EncodeAsync(IReadOnlyList<SourceRecord> records, IReadOnlyList<DeviceRecord?> decoded, CancellationToken cancellationToken)
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

    public Task<ArchiveManifest> BeforeWriteAsync(ArchiveManifest manifest, IReadOnlyList<DeviceRecord?> decoded, CancellationToken cancellationToken) => Task.FromResult(manifest);

    public Task AssignedAsync(ArchiveManifest manifest, CancellationToken cancellationToken) => Task.CompletedTask;

    public void Recorded(ArchivedFile file, ArchiveIndex index)
    {
    }

    /// <summary>
    /// One row per ack, in order: a <see cref="DeliveryAcked"/> record is one row with its value; a
    /// <see cref="DeliveriesAcked"/> batch is one row per ack, all with the batch's partition,
    /// offset and key and without the value (the rows hold all of it, and a batch's value is
    /// ~150 bytes per ack). A record that did not decode is one row with its value. Pure.
    /// </summary>
    public static List<AckRow> Rows(IReadOnlyList<SourceRecord> records, IReadOnlyList<DeviceRecord?> decoded)
    {
        var rows = new List<AckRow>(records.Count);
        for (var i = 0; i < records.Count; i++)
        {
            var record = records[i];
            switch (decoded[i])
            {
                case DeliveryAcked ack:
                    rows.Add(Row(record, nameof(DeliveryAcked), ack.V, ack.AsAck(), record.Value));
                    break;
                case DeliveriesAcked batch:
                    foreach (var ack in batch.Acks)
                    {
                        rows.Add(Row(record, nameof(DeliveriesAcked), batch.V, ack, null));
                    }

                    break;
                default:
                    rows.Add(new AckRow { Partition = record.Partition, Offset = record.Offset, Key = record.Key, Value = record.Value });
                    break;
            }
        }

        return rows;
    }

    private static AckRow Row(SourceRecord record, string type, int v, DeviceAck ack, byte[]? value) => new()
    {
        Partition = record.Partition,
        Offset = record.Offset,
        Key = record.Key,
        Value = value,
        Type = type,
        V = v,
        UserId = ack.UserId,
        DeviceId = ack.DeviceId,
        ChatId = ack.ChatId,
        Seq = ack.Seq,
        AckedAt = ack.AckedAt.UtcDateTime,
    };

    public static async Task<IList<AckRow>> DecodeAsync(Stream parquet, CancellationToken cancellationToken) =>
        (await ParquetSerializer.DeserializeAsync<AckRow>(parquet, cancellationToken: cancellationToken)).Data;
}
