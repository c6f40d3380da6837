using Messaging.Contracts.Protocol;
using Messaging.Edge.Sockets;
using Messaging.ReadModels.Inbox;
using Microsoft.Extensions.Options;

namespace Messaging.Edge.Sync;

/// <summary>
/// Streams a device's pending events (the device is (user, device id), never the device id alone;
/// who gets what is <see cref="InboxRules"/>) in (chat, seq) order, then <c>sync.done</c>. It
/// first waits for the chat projection to reach the log as it was when the sync began
/// (<see cref="InboxCatchUp"/>), so what was sent before is in the stream, and for this node's
/// device list to know the device (<see cref="DeviceShares"/>), so a companion starts at its
/// registration. Keyset paging by (chat_id, seq) reads one page at a time and releases the
/// database connection before the page is sent, so neither memory nor a pooled connection is
/// held while a slow client reads; the bulk send queue paces the stream.
/// </summary>
internal sealed class InboxSync(InboxQueries queries, InboxCatchUp catchUp, DeviceShares shares, IOptions<EdgeOptions> options)
{
    private readonly int _pageSize = options.Value.SyncPageSize;

    public async Task StreamAsync(Connection connection, SyncFrame frame, CancellationToken cancellationToken)
    {
        var share = shares.WaitAsync(connection.Device, cancellationToken);
        var caughtUp = await catchUp.WaitAsync(connection.Device, cancellationToken);
        var (known, historyFrom) = await share;
        var limit = frame.Limit ?? int.MaxValue;
        var count = 0;
        var after = SyncPosition.Start;
        var page = new List<ServerFrame>(_pageSize);
        while (count < limit)
        {
            page.Clear();
            await queries.ReadSyncPageAsync(connection.Device, historyFrom, after, Math.Min(_pageSize, limit - count), page, cancellationToken);
            foreach (var item in page)
            {
                var shared = SharedFrame.Encode(item);
                try
                {
                    if (!await connection.Queue.EnqueueBulkAsync(shared, cancellationToken))
                    {
                        return;
                    }
                }
                finally
                {
                    shared.Release();
                }
            }

            count += page.Count;
            if (page.Count < _pageSize || page.Count == 0)
            {
                break;
            }

            after = InboxQueries.PositionOf(page[^1]);
        }

        var done = SharedFrame.Encode(new SyncDoneFrame(frame.Id, count, caughtUp && known ? null : true));
        try
        {
            // Through the bulk queue: sync.done must come after the last streamed frame.
            await connection.Queue.EnqueueBulkAsync(done, cancellationToken);
        }
        finally
        {
            done.Release();
        }
    }
}
