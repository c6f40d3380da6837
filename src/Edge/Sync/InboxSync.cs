using Messaging.Contracts;
using Messaging.Contracts.Protocol;
using Messaging.Edge.Sockets;
using Messaging.ReadModels.Chats;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Messaging.Edge.Sync;

/// <summary>
/// Streams a device's inbox (undelivered and unacknowledged events; the device is (user, device id),
/// never the device id alone) in (chat, seq) order, then
/// <c>sync.done</c>. It first waits for the read models it joins to reach the log as it was when the
/// sync began (<see cref="InboxCatchUp"/>), so what was sent before is in the stream. Keyset paging by (chat_id, seq) reads one page at a time and releases the
/// database connection before the page is sent, so neither memory nor a pooled connection is
/// held while a slow client reads; the bulk send queue paces the stream.
/// </summary>
internal sealed class InboxSync(NpgsqlDataSource dataSource, InboxCatchUp catchUp, IOptions<EdgeOptions> options)
{
    private readonly int _pageSize = options.Value.SyncPageSize;

    public async Task StreamAsync(Connection connection, SyncFrame frame, CancellationToken cancellationToken)
    {
        var caughtUp = await catchUp.WaitAsync(connection.Device, cancellationToken);
        var limit = frame.Limit ?? int.MaxValue;
        var count = 0;
        var afterChat = "";
        var afterSeq = 0L;
        var page = new List<ServerFrame>(_pageSize);
        while (count < limit)
        {
            page.Clear();
            await ReadPageAsync(connection.Device, afterChat, afterSeq, Math.Min(_pageSize, limit - count), page, cancellationToken);
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

            (afterChat, afterSeq) = Position(page[^1]);
        }

        var done = SharedFrame.Encode(new SyncDoneFrame(frame.Id, count, caughtUp ? null : true));
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

    private async Task ReadPageAsync(DeviceRef device, string afterChat, long afterSeq, int take, List<ServerFrame> page, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            $"""
            select {MessageRows.Columns}
            from inbox i
            join messages m on m.chat_id = i.chat_id and m.seq = i.seq
            where i.user_id = $1 and i.device_id = $2 and (i.chat_id, i.seq) > ($3, $4)
            order by i.chat_id, i.seq
            limit $5
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = device.UserId });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = device.DeviceId });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = afterChat });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = afterSeq });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = take });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            page.Add(MessageRows.Read(reader));
        }
    }

    private static (string ChatId, long Seq) Position(ServerFrame frame) => frame switch
    {
        MessageFrame m => (m.ChatId, m.Seq),
        ChatUpdatedFrame u => (u.ChatId, u.Seq),
        _ => throw new InvalidOperationException("sync streams only message and chat.updated frames"),
    };
}
