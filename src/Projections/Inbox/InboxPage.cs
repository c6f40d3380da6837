using Messaging.Contracts;
using Messaging.Contracts.Devices;
using Messaging.Contracts.Events;
using Messaging.Projections.Runtime;

namespace Messaging.Projections.Inbox;

/// <summary>
/// The inbox rows and ack watermarks a page of records produces, as column arrays ready for
/// <c>unnest</c> (one statement per kind per page instead of one per row) or for binary COPY.
/// Pure: tested alone. The row arrays are sized once from the recipient counts, so a page costs
/// a few array allocations, not a list growth per row. A device is (user, device id): recipients
/// are parsed from their addresses <c>userId/deviceId</c>, and acks carry both fields.
/// </summary>
internal sealed class InboxPage
{
    private static readonly InboxPage Empty = new([], [], [], [], [], [], [], [], []);

    private InboxPage(string[] rowUsers, string[] rowDevices, string[] rowChats, long[] rowSeqs, DateTime[] rowCreatedAt, string[] ackUsers, string[] ackDevices, string[] ackChats, long[] ackSeqs)
    {
        RowUsers = rowUsers;
        RowDevices = rowDevices;
        RowChats = rowChats;
        RowSeqs = rowSeqs;
        RowCreatedAt = rowCreatedAt;
        AckUsers = ackUsers;
        AckDevices = ackDevices;
        AckChats = ackChats;
        AckSeqs = ackSeqs;
    }

    public string[] RowUsers { get; }

    public string[] RowDevices { get; }

    public string[] RowChats { get; }

    public long[] RowSeqs { get; }

    public DateTime[] RowCreatedAt { get; }

    /// <summary>
    /// One entry per (user, device, chat), sorted in the primary key's order: the highest seq
    /// acked in the page. A multi-row <c>on conflict do update</c> may not touch one row twice,
    /// hence the collapse; the order is the lock order, so two transactions upserting overlapping
    /// watermarks cannot deadlock.
    /// </summary>
    public string[] AckUsers { get; }

    public string[] AckDevices { get; }

    public string[] AckChats { get; }

    public long[] AckSeqs { get; }

    public int RowCount => RowDevices.Length;

    public int AckCount => AckDevices.Length;

    public static InboxPage Plan(IReadOnlyList<ApplyRecord> records)
    {
        var rowCount = 0;
        var ackCount = 0;
        for (var i = 0; i < records.Count; i++)
        {
            switch (records[i].Value)
            {
                case ChatEvent e:
                    rowCount += e.RecipientDevices.Count;
                    break;
                case DeliveryAcked:
                    ackCount++;
                    break;
            }
        }

        if (rowCount == 0 && ackCount == 0)
        {
            return Empty;
        }

        var users = new string[rowCount];
        var devices = new string[rowCount];
        var chats = new string[rowCount];
        var seqs = new long[rowCount];
        var createdAt = new DateTime[rowCount];
        var acks = ackCount == 0 ? null : new Dictionary<(string, string, string), long>(ackCount);
        var row = 0;
        for (var i = 0; i < records.Count; i++)
        {
            switch (records[i].Value)
            {
                case ChatEvent e:
                    // Event time, not wall-clock time: a rebuild must produce the same rows as the live run.
                    var at = e.OccurredAt.UtcDateTime;
                    var recipients = e.RecipientDevices;
                    for (var d = 0; d < recipients.Count; d++)
                    {
                        // A v1 event names bare device ids that belong to no user we can tell:
                        // that recipient is skipped, never given to whoever has that device id.
                        if (!DeviceRef.TryParse(recipients[d], out var recipient))
                        {
                            continue;
                        }

                        users[row] = recipient.UserId;
                        devices[row] = recipient.DeviceId;
                        chats[row] = e.ChatId;
                        seqs[row] = e.Seq;
                        createdAt[row] = at;
                        row++;
                    }

                    break;
                case DeliveryAcked a:
                    var key = (a.UserId, a.DeviceId, a.ChatId);
                    if (!acks!.TryGetValue(key, out var seq) || a.Seq > seq)
                    {
                        acks[key] = a.Seq;
                    }

                    break;
            }
        }

        if (row < rowCount)
        {
            Array.Resize(ref users, row);
            Array.Resize(ref devices, row);
            Array.Resize(ref chats, row);
            Array.Resize(ref seqs, row);
            Array.Resize(ref createdAt, row);
        }

        if (acks is null)
        {
            return new InboxPage(users, devices, chats, seqs, createdAt, [], [], [], []);
        }

        var sorted = new (string User, string Device, string Chat, long Seq)[acks.Count];
        var n = 0;
        foreach (var ((user, device, chat), seq) in acks)
        {
            sorted[n++] = (user, device, chat, seq);
        }

        Array.Sort(sorted, static (a, b) =>
        {
            var c = string.CompareOrdinal(a.User, b.User);
            c = c != 0 ? c : string.CompareOrdinal(a.Device, b.Device);
            return c != 0 ? c : string.CompareOrdinal(a.Chat, b.Chat);
        });
        var ackUsers = new string[sorted.Length];
        var ackDevices = new string[sorted.Length];
        var ackChats = new string[sorted.Length];
        var ackSeqs = new long[sorted.Length];
        for (var i = 0; i < sorted.Length; i++)
        {
            (ackUsers[i], ackDevices[i], ackChats[i], ackSeqs[i]) = sorted[i];
        }

        return new InboxPage(users, devices, chats, seqs, createdAt, ackUsers, ackDevices, ackChats, ackSeqs);
    }
}
