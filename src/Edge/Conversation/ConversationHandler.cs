using System.Collections.Concurrent;
using Messaging.Contracts.Commands;
using Messaging.Contracts.Delivery;
using Messaging.Contracts.Protocol;
using Messaging.Contracts.Serialization;
using Messaging.Contracts.Topics;
using Messaging.Edge.Commands;
using Messaging.Edge.Presence;
using Messaging.Edge.Sockets;
using Messaging.Edge.Sync;
using Messaging.Hosting;
using Messaging.ReadModels.Chats;
using Microsoft.Extensions.Options;

namespace Messaging.Edge.Conversation;

/// <summary>
/// <c>read</c> (a read marker through the Router, and a receipt for the senders), <c>typing</c>
/// (straight to the other members' online devices through the node topics: never in the log
/// of record, never in a read model) and <c>settings.set</c>.
/// </summary>
internal sealed class ConversationHandler(
    EdgeProducer producer,
    AckAccess access,
    ReceiptAggregator receipts,
    UserSettingsDirectory settings,
    ConversationQueries queries,
    PresenceDirectory presence,
    InboxCatchUp catchUp,
    TopicNames topics,
    IOptions<EdgeOptions> edge,
    IOptions<ConversationOptions> options,
    IOptions<ClusterOptions> cluster,
    TimeProvider clock)
{
    private readonly int _node = edge.Value.NodeId;
    private readonly ConversationOptions _options = options.Value;
    private readonly int _edgeNodes = cluster.Value.EdgeNodes;
    private readonly ConcurrentDictionary<string, (string[] Members, long Until)> _members = new(StringComparer.Ordinal);

    /// <summary>
    /// Authorized like an ack (a member, up to the chat's last seq), appended as <see cref="MarkRead"/>
    /// (no reply), and noted for the senders' receipts unless the user turned read receipts off.
    /// Reading implies holding: it counts as delivered too.
    /// </summary>
    public async Task ReadAsync(Connection connection, ReadFrame frame, CancellationToken cancellationToken)
    {
        if (await access.CheckAsync(connection, frame.ChatId, frame.Seq, cancellationToken) is { } refused)
        {
            connection.TryPush(AckAccess.Refusal(frame.Id, refused));
            return;
        }

        var now = clock.GetUtcNow();
        var user = connection.Device.UserId;
        var shows = settings.ReadReceipts(user);
        var command = new MarkRead
        {
            CommandId = Guid.CreateVersion7().ToString(),
            ChatId = frame.ChatId,
            Origin = connection.Device,
            OriginNode = _node,
            RequestId = frame.Id,
            IssuedAt = now,
            Seq = frame.Seq,
            Private = shows ? null : true,
        };
        try
        {
            await producer.ProduceAsync(topics.ChatCommands, command.ChatId, Codecs.Commands.Encode(command), cancellationToken);
        }
        catch (Exception ex) when (EdgeProducer.IsUnavailable(ex))
        {
            connection.TryPush(new ErrorFrame(frame.Id, ErrorCodes.Unavailable, "the read marker was not recorded; send it again"));
            return;
        }

        receipts.Note(frame.ChatId, user, ConversationStates.Delivered, frame.Seq, now);
        if (shows)
        {
            receipts.Note(frame.ChatId, user, ConversationStates.Read, frame.Seq, now);
        }
    }

    /// <summary>A member's typing state to every other member's online devices (one record per node).</summary>
    public async Task TypingAsync(Connection connection, TypingFrame frame, CancellationToken cancellationToken)
    {
        var user = connection.Device.UserId;
        var members = await MembersAsync(frame.ChatId, cached: true, cancellationToken);
        if (Array.IndexOf(members, user) < 0)
        {
            // A chat created or joined a moment ago may not be projected yet (a client types right
            // after creating a chat: refused under load in ReceiptsTests, 2026-11-26). Wait for the
            // chat read model as a sync does, then look again past the cache.
            await catchUp.WaitUnmeteredAsync(connection.Device, cancellationToken);
            members = await MembersAsync(frame.ChatId, cached: false, cancellationToken);
            if (Array.IndexOf(members, user) < 0)
            {
                connection.TryPush(new ErrorFrame(frame.Id, ErrorCodes.NotMember, "not a member of this chat"));
                return;
            }
        }

        connection.Typing.Note(frame.ChatId, frame.State == ConversationStates.Started, clock.GetUtcNow());
        try
        {
            await SendTypingAsync(user, frame.ChatId, frame.State, members, cancellationToken);
        }
        catch (Exception ex) when (EdgeProducer.IsUnavailable(ex))
        {
            connection.TryPush(new ErrorFrame(frame.Id, ErrorCodes.Unavailable, "typing could not be sent"));
        }
    }

    /// <summary>
    /// The session ended (socket closed or dropped, stream expired): a <c>stopped</c> for every chat
    /// where this device said <c>started</c> within the expiry and never <c>stopped</c>, so the others
    /// clear the indicator now instead of after up to <c>Conversation:TypingExpiryMs</c>. Best effort.
    /// </summary>
    public async Task StopTypingAsync(Connection connection)
    {
        var now = clock.GetUtcNow();
        foreach (var chatId in connection.Typing.Active(now, TimeSpan.FromMilliseconds(_options.TypingExpiryMs)))
        {
            try
            {
                await SendTypingAsync(connection.Device.UserId, chatId, ConversationStates.Stopped, await MembersAsync(chatId, cached: true, CancellationToken.None), CancellationToken.None);
            }
            catch (Exception ex) when (EdgeProducer.IsUnavailable(ex) || ex is Npgsql.NpgsqlException or ObjectDisposedException or OperationCanceledException)
            {
                // PostgreSQL or Kafka down, or the node stopping: the receivers' expiry clears it (a few seconds of a stale indicator).
            }
        }
    }

    private async Task SendTypingAsync(string user, string chatId, string state, string[] members, CancellationToken cancellationToken)
    {

        var byNode = NodeRouting.Buckets(_edgeNodes);
        var now = clock.GetUtcNow();
        foreach (var member in members)
        {
            if (!string.Equals(member, user, StringComparison.Ordinal))
            {
                presence.AddOnlineDevices(member, now, byNode);
            }
        }

        var produces = new List<Task>();
        NodeRouting.Produce(producer, topics, chatId, byNode, devices => new TypingRouted { Devices = devices, ChatId = chatId, UserId = user, State = state, ExpiresInMs = _options.TypingExpiryMs }, produces, cancellationToken);
        await Task.WhenAll(produces);
    }

    /// <summary>Stores the user's settings (durable before the reply) and answers with the values in force.</summary>
    public async Task SettingsAsync(Connection connection, SetSettingsFrame frame, CancellationToken cancellationToken)
    {
        var user = connection.Device.UserId;
        if (frame.ReadReceipts is { } readReceipts)
        {
            try
            {
                await settings.SetAsync(user, readReceipts, cancellationToken);
            }
            catch (Exception ex) when (EdgeProducer.IsUnavailable(ex))
            {
                connection.TryPush(new ErrorFrame(frame.Id, ErrorCodes.Unavailable, "the settings were not stored; send them again"));
                return;
            }
        }

        connection.TryPush(new SettingsFrame { Id = frame.Id, ReadReceipts = settings.ReadReceipts(user) });
    }

    /// <summary>
    /// The chat's current members, reused for <c>Conversation:TypingMembersCacheMs</c>: a typing
    /// frame every few seconds per typist must not be a query each. A member added or removed
    /// within that time is missed or still served typing for at most that long.
    /// </summary>
    private async Task<string[]> MembersAsync(string chatId, bool cached, CancellationToken cancellationToken)
    {
        var now = Environment.TickCount64;
        if (cached && _members.TryGetValue(chatId, out var entry) && entry.Until > now)
        {
            return entry.Members;
        }

        var members = await queries.CurrentMembersAsync(chatId, cancellationToken);
        if (_members.Count >= _options.TypingCachedChats)
        {
            _members.Clear();
        }

        _members[chatId] = (members, now + _options.TypingMembersCacheMs);
        return members;
    }
}
