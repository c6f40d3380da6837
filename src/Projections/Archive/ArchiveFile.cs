using System.Text.Json;
using Messaging.Contracts.Events;
using Messaging.Contracts.Serialization;
using Messaging.Projections.Runtime;
using Parquet.Serialization;

namespace Messaging.Projections.Archive;

/// <summary>
/// The rows of one archive file from the records of one partition, and the file's bytes
/// (Parquet through Parquet.Net's class serializer: one row group per file, Snappy, the
/// library's default).
/// </summary>
internal static class ArchiveFile
{
    /// <summary>
    /// One row per record, in order. A message deleted by a <c>MessageDeleted</c> of the same
    /// records loses its text, attachments and ciphertexts (and so do its edits): the archive
    /// keeps the tombstone, as the read models do. A delete in a later file cannot reach back
    /// into a file already written (docs/operations.md, "Archive").
    /// </summary>
    /// <param name="records">The records, in offset order.</param>
    /// <param name="decoded">Each record's event (null: it did not decode), as the caller already decoded them.</param>
    /// <param name="erased">Messages deleted in later records, <c>(chatId, seq)</c>: an erasure rewriting this file (<see cref="ArchiveEraser"/>).</param>
    public static List<ArchiveRow> Rows(IReadOnlyList<SourceRecord> records, IReadOnlyList<ChatEvent?> decoded, IReadOnlySet<(string, long)>? erased = null)
    {
        HashSet<(string, long)>? deleted = erased is null ? null : [.. erased];
        for (var i = 0; i < decoded.Count; i++)
        {
            if (decoded[i] is MessageDeleted d)
            {
                (deleted ??= []).Add((d.ChatId, d.MessageSeq));
            }
        }

        var rows = new List<ArchiveRow>(records.Count);
        for (var i = 0; i < records.Count; i++)
        {
            var record = records[i];
            var row = new ArchiveRow { Partition = record.Partition, Offset = record.Offset, Key = record.Key, Value = record.Value };
            if (decoded[i] is { } e)
            {
                Fill(row, e, deleted);
            }

            rows.Add(row);
        }

        return rows;
    }

    public static async Task<byte[]> EncodeAsync(IReadOnlyList<ArchiveRow> rows, CancellationToken cancellationToken)
    {
        using var stream = new MemoryStream();
        await ParquetSerializer.SerializeAsync(rows, stream, cancellationToken: cancellationToken);
        return stream.ToArray();
    }

    public static async Task<IList<ArchiveRow>> DecodeAsync(Stream parquet, CancellationToken cancellationToken) =>
        (await ParquetSerializer.DeserializeAsync<ArchiveRow>(parquet, cancellationToken: cancellationToken)).Data;

    /// <summary>The event a record holds, or null when it does not decode (archived as it is).</summary>
    public static ChatEvent? Decode(byte[]? value) =>
        value is null ? null : Codecs.Events.Decode(value) is { IsOk: true } decoded ? decoded.Value : null;

    /// <summary>The record as a rebuild reads it from the archive: the same topic, partition, offset, key and value as in Kafka.</summary>
    public static SourceRecord ToRecord(ArchiveRow row, string topic) => new(topic, row.Partition, row.Offset, row.Key, row.Value);

    private static void Fill(ArchiveRow row, ChatEvent e, HashSet<(string, long)>? deleted)
    {
        row.Type = TypeName(e);
        row.V = e.V;
        row.ChatId = e.ChatId;
        row.Seq = e.Seq;
        row.ActorUserId = e.Actor.UserId;
        row.ActorDeviceId = e.Actor.DeviceId;
        row.OccurredAt = e.OccurredAt.UtcDateTime;
        switch (e)
        {
            case ChatCreated c:
                row.ChatKind = c.Kind.ToString();
                row.Title = c.Title;
                row.Members = JsonSerializer.Serialize(c.Members, ContractsJsonContext.Default.IReadOnlyListChatMember);
                row.MemberCount = c.Members.Count;
                break;
            case MessageSent m when deleted?.Contains((m.ChatId, m.Seq)) == true:
                row.MessageId = m.MessageId;
                row.ClientMsgId = m.ClientMsgId;
                row.ReplyTo = m.ReplyTo;
                row.Deleted = true;
                row.Value = Codecs.Events.Encode(m with { Body = "", Attachments = null, Payloads = null });
                break;
            case MessageSent m:
                row.MessageId = m.MessageId;
                row.ClientMsgId = m.ClientMsgId;
                row.Body = m.Body;
                row.Attachments = m.Attachments is null ? null : JsonSerializer.Serialize(m.Attachments, ContractsJsonContext.Default.IReadOnlyListAttachment);
                row.ReplyTo = m.ReplyTo;
                row.PayloadDevices = m.Payloads?.Count;
                break;
            case MessageEdited m when deleted?.Contains((m.ChatId, m.MessageSeq)) == true:
                row.MessageId = m.MessageId;
                row.MessageSeq = m.MessageSeq;
                row.Deleted = true;
                row.Value = Codecs.Events.Encode(m with { Body = "", Payloads = null });
                break;
            case MessageEdited m:
                row.MessageId = m.MessageId;
                row.MessageSeq = m.MessageSeq;
                row.Body = m.Body;
                row.PayloadDevices = m.Payloads?.Count;
                break;
            case MessageDeleted m:
                row.MessageId = m.MessageId;
                row.MessageSeq = m.MessageSeq;
                break;
            case ReactionChanged r:
                row.MessageId = r.MessageId;
                row.MessageSeq = r.MessageSeq;
                row.Emoji = r.Emoji;
                break;
            case MembersAdded a:
                row.UserIds = JsonSerializer.Serialize(a.UserIds, ContractsJsonContext.Default.IReadOnlyListString);
                row.MemberCount = a.UserIds.Count;
                break;
            case MemberRemoved r:
                row.UserId = r.UserId;
                break;
            case MemberLeft l:
                row.UserId = l.UserId;
                row.PromotedAdmin = l.PromotedAdmin;
                break;
            case AdminGranted g:
                row.UserId = g.UserId;
                break;
        }
    }

    private static string TypeName(ChatEvent e) => e switch
    {
        ChatCreated => nameof(ChatCreated),
        MessageSent => nameof(MessageSent),
        MessageEdited => nameof(MessageEdited),
        MessageDeleted => nameof(MessageDeleted),
        ReactionChanged => nameof(ReactionChanged),
        MembersAdded => nameof(MembersAdded),
        MemberRemoved => nameof(MemberRemoved),
        MemberLeft => nameof(MemberLeft),
        AdminGranted => nameof(AdminGranted),
        MessagesRead => nameof(MessagesRead),
        _ => e.GetType().Name,
    };
}
