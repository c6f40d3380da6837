using Messaging.Contracts;
using Messaging.Contracts.Protocol;
using Messaging.Edge.Commands;
using Messaging.Edge.Conversation;
using Messaging.Edge.Devices;
using Messaging.Edge.History;
using Messaging.Edge.Media;
using Messaging.Edge.Presence;
using Messaging.Edge.Sync;
using Microsoft.Extensions.Options;

namespace Messaging.Edge.Sockets;

/// <summary>
/// Routes a valid client frame to its feature. Every handler reaches its Kafka produce before
/// its first await, so frames of one connection are appended in the order they arrived even
/// though their replies are awaited concurrently. (An ack may first await its authorization:
/// acks are cumulative and the projection keeps the highest, so their order does not matter.)
/// </summary>
internal sealed class FrameDispatcher(
    ChatCommandHandler commands,
    DeviceDirectory devices,
    ConnectionRegistry registry,
    InboxSync sync,
    HistoryReader history,
    MediaUrls media,
    PresenceService presence,
    ConversationHandler conversation,
    IOptions<EdgeOptions> options)
{
    private readonly int _historyPageSize = options.Value.HistoryPageSize;

    public Task DispatchAsync(Connection connection, ClientFrame frame, CancellationToken cancellationToken) => frame switch
    {
        PingFrame ping => Reply(connection, new PongFrame(ping.Id)),
        SendMessageFrame send => commands.SendMessageAsync(connection, send, cancellationToken),
        AckFrame ack => commands.AckAsync(connection, ack, cancellationToken),
        CreateChatFrame create => commands.CreateChatAsync(connection, create, cancellationToken),
        AddMembersFrame add => commands.AddMembersAsync(connection, add, cancellationToken),
        RemoveMemberFrame remove => commands.RemoveMemberAsync(connection, remove, cancellationToken),
        LeaveChatFrame leave => commands.LeaveChatAsync(connection, leave, cancellationToken),
        GrantAdminFrame grant => commands.GrantAdminAsync(connection, grant, cancellationToken),
        EditMessageFrame edit => commands.EditMessageAsync(connection, edit, cancellationToken),
        DeleteMessageFrame delete => commands.DeleteMessageAsync(connection, delete, cancellationToken),
        ReactFrame react => commands.ReactAsync(connection, react, cancellationToken),
        SyncFrame syncFrame => sync.StreamAsync(connection, syncFrame, cancellationToken),
        HistoryFrame historyFrame => HistoryAsync(connection, historyFrame, cancellationToken),
        UploadMediaFrame upload => UploadAsync(connection, upload),
        RemoveDeviceFrame removeDevice => RemoveDeviceAsync(connection, removeDevice, cancellationToken),
        GetPresenceFrame get => presence.GetAsync(connection, get, cancellationToken),
        WatchPresenceFrame watch => presence.WatchAsync(connection, watch, cancellationToken),
        UnwatchPresenceFrame unwatch => presence.UnwatchAsync(connection, unwatch),
        ReadFrame read => conversation.ReadAsync(connection, read, cancellationToken),
        TypingFrame typing => conversation.TypingAsync(connection, typing, cancellationToken),
        SetSettingsFrame set => conversation.SettingsAsync(connection, set, cancellationToken),
        _ => Reply(connection, new ErrorFrame(frame.Id, ErrorCodes.UnknownType, $"frame {frame.GetType().Name} is not handled")),
    };

    private async Task HistoryAsync(Connection connection, HistoryFrame frame, CancellationToken cancellationToken)
    {
        var page = await history.PageAsync(connection.Device, frame.ChatId, frame.BeforeSeq, frame.Limit ?? _historyPageSize, frame.Id, cancellationToken);
        connection.TryPush(page is null ? new ErrorFrame(frame.Id, ErrorCodes.NotMember, "not a member of this chat") : page);
    }

    private async Task UploadAsync(Connection connection, UploadMediaFrame frame) =>
        connection.TryPush(await media.UploadAsync(connection.Device, frame));

    private async Task RemoveDeviceAsync(Connection connection, RemoveDeviceFrame frame, CancellationToken cancellationToken)
    {
        var outcome = await devices.RemoveAsync(connection.Device, frame.DeviceId, frame.Id, cancellationToken);
        if (!outcome.IsAccepted)
        {
            connection.TryPush(new ErrorFrame(frame.Id, outcome.Code!, outcome.Message ?? "the device could not be removed"));
            return;
        }

        connection.TryPush(new AcceptedFrame(frame.Id));

        // Every node (this one included) closes the removed device's socket when it reads the new
        // list; closing a local one now saves that round trip.
        if (registry.TryGet(DeviceRef.AddressOf(connection.Device.UserId, frame.DeviceId), out var removed))
        {
            removed.Close(CloseCodes.DeviceRemoved, "device removed");
        }
    }

    private static Task Reply(Connection connection, ServerFrame frame)
    {
        connection.TryPush(frame);
        return Task.CompletedTask;
    }
}
