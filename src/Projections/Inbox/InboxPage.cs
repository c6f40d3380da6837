using Messaging.Contracts.Devices;
using Messaging.Contracts.Events;
using Messaging.Projections.Runtime;

namespace Messaging.Projections.Inbox;

/// <summary>
/// The inbox rows and ack watermarks a page of records produces, as column arrays ready for
/// <c>unnest</c> (one statement per kind per page instead of one per row). Pure: tested alone.
/// </summary>
internal sealed class InboxPage
{
    public List<string> RowDevices { get; } = [];

    public List<string> RowChats { get; } = [];

    public List<long> RowSeqs { get; } = [];

    public List<DateTime> RowCreatedAt { get; } = [];

    /// <summary>Distinct (device, chat) of the rows, sorted: lock order for the watermark rows, so concurrent runners do not deadlock.</summary>
    public List<(string Device, string Chat)> Pairs { get; } = [];

    /// <summary>
    /// One entry per (device, chat): the highest seq acked in the page. A multi-row
    /// <c>on conflict do update</c> may not touch one row twice, hence the collapse.
    /// </summary>
    public List<(string Device, string Chat, long Seq)> Acks { get; } = [];

    public int RowCount => RowDevices.Count;

    public static InboxPage Plan(IReadOnlyList<ApplyRecord> records)
    {
        var page = new InboxPage();
        var pairs = new HashSet<(string, string)>();
        var acks = new Dictionary<(string, string), long>();
        for (var i = 0; i < records.Count; i++)
        {
            switch (records[i].Value)
            {
                case ChatEvent e:
                    // Event time, not wall-clock time: a rebuild must produce the same rows as the live run.
                    var createdAt = e.OccurredAt.UtcDateTime;
                    var devices = e.RecipientDevices;
                    for (var d = 0; d < devices.Count; d++)
                    {
                        page.RowDevices.Add(devices[d]);
                        page.RowChats.Add(e.ChatId);
                        page.RowSeqs.Add(e.Seq);
                        page.RowCreatedAt.Add(createdAt);
                        pairs.Add((devices[d], e.ChatId));
                    }

                    break;
                case DeliveryAcked a:
                    var key = (a.DeviceId, a.ChatId);
                    if (!acks.TryGetValue(key, out var seq) || a.Seq > seq)
                    {
                        acks[key] = a.Seq;
                    }

                    break;
            }
        }

        foreach (var pair in pairs)
        {
            page.Pairs.Add(pair);
        }

        page.Pairs.Sort(static (a, b) => a.CompareTo(b));
        foreach (var ((device, chat), seq) in acks)
        {
            page.Acks.Add((device, chat, seq));
        }

        page.Acks.Sort(static (a, b) => (a.Device, a.Chat).CompareTo((b.Device, b.Chat)));
        return page;
    }
}
