using System.Diagnostics;
using Confluent.Kafka;
using Messaging.Contracts;
using Messaging.Contracts.Commands;
using Messaging.Contracts.Devices;
using Messaging.Contracts.Protocol;
using Messaging.Contracts.Serialization;
using Messaging.Contracts.Topics;
using Messaging.Edge.Sockets;
using Messaging.Edge.Telemetry;
using Messaging.Hosting.Kafka;
using Messaging.Hosting.Telemetry;
using Messaging.ReadModels.Chats;
using Microsoft.Extensions.Options;

namespace Messaging.Edge.Commands;

/// <summary>
/// Turns chat frames into commands on <c>chat.commands</c> (key: chat id) and replies once the
/// broker acknowledged them: nothing is confirmed to a client before it is durable in the log.
/// The Router decides; its refusals come back through the node topic as <c>error</c> frames.
/// </summary>
internal sealed class ChatCommandHandler(EdgeProducer producer, AckBatcher ackBatches, AckAccess acks, ConversationQueries queries, TopicNames topics, IOptions<EdgeOptions> options, IOptions<KafkaOptions> kafka, TimeProvider clock, EdgeMetrics metrics)
{
    private readonly int _node = options.Value.NodeId;
    private readonly bool _traceHeaders = kafka.Value.TraceHeaders;

    public Task CreateChatAsync(Connection connection, CreateChatFrame frame, CancellationToken cancellationToken)
    {
        var chatId = Guid.CreateVersion7().ToString();
        var command = new CreateChat
        {
            CommandId = NewId(),
            ChatId = chatId,
            Origin = connection.Device,
            OriginNode = _node,
            RequestId = frame.Id,
            IssuedAt = clock.GetUtcNow(),
            Title = frame.Title,
            Members = frame.Members,
        };
        return AppendAsync(connection, command, new ChatCreatedFrame(frame.Id, chatId), cancellationToken);
    }

    public Task SendMessageAsync(Connection connection, SendMessageFrame frame, CancellationToken cancellationToken)
    {
        var chatId = frame.ChatId ?? ChatIds.Direct(connection.Device.UserId, frame.ToUserId!);
        var messageId = Guid.CreateVersion7().ToString();
        var command = new SendMessage
        {
            CommandId = NewId(),
            ChatId = chatId,
            Origin = connection.Device,
            OriginNode = _node,
            RequestId = frame.Id,
            IssuedAt = clock.GetUtcNow(),
            ClientMsgId = frame.ClientMsgId,
            MessageId = messageId,
            Body = frame.Body ?? "",
            PeerUserId = frame.ToUserId,
            Attachments = frame.Attachments,
            ReplyTo = frame.ReplyTo,
            Payloads = frame.Payloads,
        };
        var reply = new MessageAcceptedFrame { Id = frame.Id, ClientMsgId = frame.ClientMsgId, ChatId = chatId, MessageId = messageId };
        // Sends without a reply seq stay off the lookup path (no delegate per send).
        return frame is { ReplyTo: { } replyTo, ReplyToSeq: { } replyToSeq }
            ? AppendWithFactsAsync(connection, command, replyTo, replyToSeq, facts => command with { ReplyTarget = facts }, reply, cancellationToken)
            : AppendAsync(connection, command, reply, cancellationToken);
    }

    public Task AddMembersAsync(Connection connection, AddMembersFrame frame, CancellationToken cancellationToken) =>
        AppendAsync(connection, new AddMembers { UserIds = frame.UserIds, ChatId = frame.ChatId, CommandId = NewId(), Origin = connection.Device, OriginNode = _node, RequestId = frame.Id, IssuedAt = clock.GetUtcNow() }, new AcceptedFrame(frame.Id), cancellationToken);

    public Task RemoveMemberAsync(Connection connection, RemoveMemberFrame frame, CancellationToken cancellationToken) =>
        AppendAsync(connection, new RemoveMember { UserId = frame.UserId, ChatId = frame.ChatId, CommandId = NewId(), Origin = connection.Device, OriginNode = _node, RequestId = frame.Id, IssuedAt = clock.GetUtcNow() }, new AcceptedFrame(frame.Id), cancellationToken);

    public Task LeaveChatAsync(Connection connection, LeaveChatFrame frame, CancellationToken cancellationToken) =>
        AppendAsync(connection, new LeaveChat { ChatId = frame.ChatId, CommandId = NewId(), Origin = connection.Device, OriginNode = _node, RequestId = frame.Id, IssuedAt = clock.GetUtcNow() }, new AcceptedFrame(frame.Id), cancellationToken);

    public Task GrantAdminAsync(Connection connection, GrantAdminFrame frame, CancellationToken cancellationToken) =>
        AppendAsync(connection, new GrantAdmin { UserId = frame.UserId, ChatId = frame.ChatId, CommandId = NewId(), Origin = connection.Device, OriginNode = _node, RequestId = frame.Id, IssuedAt = clock.GetUtcNow() }, new AcceptedFrame(frame.Id), cancellationToken);

    public Task EditMessageAsync(Connection connection, EditMessageFrame frame, CancellationToken cancellationToken)
    {
        var command = new EditMessage { MessageId = frame.MessageId, Body = frame.Body ?? "", Payloads = frame.Payloads, ChatId = frame.ChatId, CommandId = NewId(), Origin = connection.Device, OriginNode = _node, RequestId = frame.Id, IssuedAt = clock.GetUtcNow() };
        return AppendWithFactsAsync(connection, command, frame.MessageId, frame.MessageSeq, facts => command with { Target = facts }, new AcceptedFrame(frame.Id), cancellationToken);
    }

    public Task DeleteMessageAsync(Connection connection, DeleteMessageFrame frame, CancellationToken cancellationToken)
    {
        var command = new DeleteMessage { MessageId = frame.MessageId, ChatId = frame.ChatId, CommandId = NewId(), Origin = connection.Device, OriginNode = _node, RequestId = frame.Id, IssuedAt = clock.GetUtcNow() };
        return AppendWithFactsAsync(connection, command, frame.MessageId, frame.MessageSeq, facts => command with { Target = facts }, new AcceptedFrame(frame.Id), cancellationToken);
    }

    public Task ReactAsync(Connection connection, ReactFrame frame, CancellationToken cancellationToken)
    {
        var command = new ReactToMessage { MessageId = frame.MessageId, Emoji = frame.Emoji, ChatId = frame.ChatId, CommandId = NewId(), Origin = connection.Device, OriginNode = _node, RequestId = frame.Id, IssuedAt = clock.GetUtcNow() };
        return AppendWithFactsAsync(connection, command, frame.MessageId, frame.MessageSeq, facts => command with { Target = facts }, new AcceptedFrame(frame.Id), cancellationToken);
    }

    /// <summary>Records the device's cumulative ack on <c>device.acks</c>, in the node's next batch (no reply unless it is refused or fails).</summary>
    public async Task AckAsync(Connection connection, AckFrame frame, CancellationToken cancellationToken)
    {
        if (await acks.CheckAsync(connection, frame.ChatId, frame.Seq, cancellationToken) is { } refused)
        {
            connection.TryPush(AckAccess.Refusal(frame.Id, refused));
            return;
        }

        var ack = new DeviceAck
        {
            DeviceId = connection.Device.DeviceId,
            UserId = connection.Device.UserId,
            ChatId = frame.ChatId,
            Seq = frame.Seq,
            AckedAt = clock.GetUtcNow(),
        };

        // Written with the node's other acks of the next Edge:AckBatchMs (AckBatcher), which also
        // answers unavailable if the batch cannot be written.
        if (!await ackBatches.AddAsync(connection, frame.Id, ack, cancellationToken))
        {
            connection.TryPush(new ErrorFrame(frame.Id, ErrorCodes.Unavailable, "the node is stopping; send the ack again after reconnecting"));
        }
    }

    /// <summary>
    /// Looks the target message up in the read model when the client gave its seq (else a plain
    /// <see cref="AppendAsync"/>), then appends the
    /// command with what was found. The lookup runs before the produce, so this command and every
    /// later one of the connection wait on <see cref="Connection.CommandTail"/>: frame order is
    /// kept. A message not found (a wrong seq, not projected yet, PostgreSQL down) goes without
    /// facts and the Router decides from its recent index alone.
    /// </summary>
    private Task AppendWithFactsAsync(Connection connection, ChatCommand command, string? messageId, long? messageSeq, Func<MessageFacts?, ChatCommand> withFacts, ServerFrame reply, CancellationToken cancellationToken)
    {
        if (messageId is null || messageSeq is not { } seq)
        {
            return AppendAsync(connection, command, reply, cancellationToken);
        }

        var previous = connection.CommandTail;
        var task = LookUpThenAppendAsync(previous);
        connection.CommandTail = task;
        return task;

        async Task LookUpThenAppendAsync(Task before)
        {
            MessageFacts? facts = null;
            try
            {
                facts = await queries.MessageFactsAsync(command.ChatId, seq, messageId, cancellationToken);
            }
            catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException)
            {
                // PostgreSQL down: the command goes without facts; the Router still decides it for a recent message.
            }

            await before.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await ProduceAsync(connection, facts is null ? command : withFacts(facts), reply, cancellationToken);
        }
    }

    private Task AppendAsync(Connection connection, ChatCommand command, ServerFrame reply, CancellationToken cancellationToken)
    {
        var previous = connection.CommandTail;
        if (previous.IsCompleted)
        {
            return ProduceAsync(connection, command, reply, cancellationToken);
        }

        // A lookup of an earlier frame is still running: queue behind it (rare: only frames with a message seq look up).
        var task = AfterAsync(previous);
        connection.CommandTail = task;
        return task;

        async Task AfterAsync(Task before)
        {
            await before.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await ProduceAsync(connection, command, reply, cancellationToken);
        }
    }

    private async Task ProduceAsync(Connection connection, ChatCommand command, ServerFrame reply, CancellationToken cancellationToken)
    {
        // A traced command starts its trace here and carries it in a header where the broker has
        // them (Kafka:TraceHeaders), else in the record (Kafka 0.9); untraced, this is one check
        // and the record is unchanged.
        using var activity = MessagingTelemetry.StartRoot(EdgeTracing.Source, EdgeTracing.Accept, ActivityKind.Producer);
        Headers? headers = null;
        if (activity is not null)
        {
            activity.SetTag("messaging.chat.id", command.ChatId);
            activity.SetTag("messaging.command", command.GetType().Name);
            headers = TraceHeaders.Write(activity.Id, _traceHeaders);
            if (headers is null)
            {
                command = command with { Traceparent = activity.Id };
            }
        }

        // Started synchronously: commands of one connection reach the partition in frame order.
        var produce = producer.ProduceAsync(topics.ChatCommands, command.ChatId, Codecs.Commands.Encode(command), headers, cancellationToken);
        try
        {
            await produce;
        }
        catch (Exception ex) when (EdgeProducer.IsUnavailable(ex))
        {
            connection.TryPush(new ErrorFrame(command.RequestId, ErrorCodes.Unavailable, "the log is unavailable; retry with the same clientMsgId"));
            return;
        }

        connection.TryPush(reply);
        if (command is SendMessage)
        {
            metrics.SendAccepted();
        }
    }

    private static string NewId() => Guid.CreateVersion7().ToString();
}
