using Messaging.Contracts.Devices;
using Messaging.Projections.Runtime;
using Messaging.ReadModels.Inbox;

namespace Messaging.Projections.Inbox;

/// <summary>
/// The cursor advances a page of acks produces (<see cref="DeliveryAcked"/> records and the
/// batches of <see cref="DeliveriesAcked"/>), as column arrays ready for <c>unnest</c> (one
/// statement per page). Pure: tested alone. One entry per (user, device, chat), the highest seq
/// acked in the page (<see cref="InboxRules.Advance"/>), sorted in the primary key's order: a
/// multi-row <c>on conflict do update</c> may not touch one row twice, and the order is the lock
/// order, so two transactions advancing overlapping cursors cannot deadlock. Chat events write
/// nothing here: a message costs the inbox nothing, whatever the size of its group.
/// </summary>
internal sealed class CursorPage
{
    private static readonly CursorPage Empty = new([], [], [], []);

    private CursorPage(string[] users, string[] devices, string[] chats, long[] seqs)
    {
        Users = users;
        Devices = devices;
        Chats = chats;
        Seqs = seqs;
    }

    public string[] Users { get; }

    public string[] Devices { get; }

    public string[] Chats { get; }

    public long[] Seqs { get; }

    public int Count => Devices.Length;

    public static CursorPage Plan(IReadOnlyList<ApplyRecord> records)
    {
        Dictionary<(string, string, string), long>? acks = null;
        for (var i = 0; i < records.Count; i++)
        {
            switch (records[i].Value)
            {
                case DeliveryAcked a:
                    acks ??= new Dictionary<(string, string, string), long>(records.Count);
                    Add(acks, a.UserId, a.DeviceId, a.ChatId, a.Seq);
                    break;
                case DeliveriesAcked batch:
                    acks ??= new Dictionary<(string, string, string), long>(records.Count + batch.Acks.Count);
                    for (var j = 0; j < batch.Acks.Count; j++)
                    {
                        var ack = batch.Acks[j];
                        Add(acks, ack.UserId, ack.DeviceId, ack.ChatId, ack.Seq);
                    }

                    break;
            }
        }

        if (acks is null)
        {
            return Empty;
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
        var users = new string[sorted.Length];
        var devices = new string[sorted.Length];
        var chats = new string[sorted.Length];
        var seqs = new long[sorted.Length];
        for (var i = 0; i < sorted.Length; i++)
        {
            (users[i], devices[i], chats[i], seqs[i]) = sorted[i];
        }

        return new CursorPage(users, devices, chats, seqs);
    }

    private static void Add(Dictionary<(string, string, string), long> acks, string user, string device, string chat, long seq)
    {
        var key = (user, device, chat);
        acks[key] = acks.TryGetValue(key, out var known) ? InboxRules.Advance(known, seq) : seq;
    }
}
