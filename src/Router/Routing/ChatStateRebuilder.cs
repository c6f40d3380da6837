using Confluent.Kafka;
using Messaging.Contracts.Serialization;
using Messaging.Contracts.Topics;
using Messaging.Hosting.Kafka;
using Messaging.Router.Chats;

namespace Messaging.Router.Routing;

/// <summary>
/// Rebuilds a partition's chat states from <c>chat.events</c> alone (the state is a cache of the
/// log: <see cref="ChatEvolver"/>), and writes them back to <c>chat.state</c> between two markers
/// so a rebuild that dies half-way is redone by the next owner (docs/router.md, "Rebuilding
/// chat.state from chat.events"). Runs inside the assignment, before any command of the partition
/// is decided.
/// </summary>
public sealed class ChatStateRebuilder(KafkaClientFactory clients, TopicNames topics, int recentCapacity)
{
    /// <summary>The marker's key: not a valid chat id (<c>#</c> is outside the id character set), so it never shadows a chat.</summary>
    public const string MarkerKey = "#rebuild";

    private static readonly byte[] Started = "started"u8.ToArray();
    private static readonly byte[] Finished = "finished"u8.ToArray();

    public static bool IsMarker(string key) => string.Equals(key, MarkerKey, StringComparison.Ordinal);

    public static bool IsFinished(byte[]? value) => value is not null && value.AsSpan().SequenceEqual(Finished);

    /// <summary>
    /// Folds <c>chat.events</c> partition <paramref name="partition"/> from its beginning to its
    /// high watermark as of now. Every chat's <see cref="ChatState.LastCommandOffset"/> is -1: no
    /// event says which command made it, so the commands after the committed offset are decided
    /// again against the rebuilt state (a send already in the log is found in the recent-message
    /// index and answered as a duplicate with its original seq).
    /// </summary>
    public (Dictionary<string, ChatState> Chats, long Events, int Undecodable) Fold(int partition, CancellationToken cancellationToken)
    {
        var chats = new Dictionary<string, ChatState>(StringComparer.Ordinal);
        var config = clients.ConsumerConfig($"router-rebuild-{Guid.NewGuid():N}", "router-rebuild");
        config.EnablePartitionEof = true;
        config.AutoOffsetReset = AutoOffsetReset.Earliest;
        using var consumer = new ConsumerBuilder<string, byte[]>(config).Build();
        var tp = new TopicPartition(topics.ChatEvents, partition);
        var marks = consumer.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(10));
        long events = 0;
        var undecodable = 0;
        if (marks.High.Value <= marks.Low.Value)
        {
            return (chats, events, undecodable);
        }

        consumer.Assign(new TopicPartitionOffset(tp, Offset.Beginning));
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var record = consumer.Consume(TimeSpan.FromMilliseconds(100));
            if (record is null)
            {
                continue;
            }

            if (!record.IsPartitionEOF && record.Message.Value is { } value)
            {
                var decoded = Codecs.Events.Decode(value);
                if (decoded.IsOk)
                {
                    var evt = decoded.Value!;
                    chats.TryGetValue(evt.ChatId, out var state);
                    if (ChatEvolver.Evolve(state, evt, recentCapacity) is { } after && state is null)
                    {
                        chats[evt.ChatId] = after;
                    }

                    events++;
                }
                else
                {
                    // The Router wrote every record here with the same codec: none is expected.
                    undecodable++;
                }
            }

            if (record.IsPartitionEOF || record.Offset.Value + 1 >= marks.High.Value)
            {
                break;
            }
        }

        consumer.Close();
        return (chats, events, undecodable);
    }

    /// <summary>
    /// Marks a new partition's empty <c>chat.state</c> ("finished": nothing to rebuild) before its
    /// first command is decided, acknowledged before it returns (see <see cref="ChatStateRestorer"/>).
    /// </summary>
    public void Mark(IRecordSink sink, int partition, CancellationToken cancellationToken)
    {
        sink.Produce(new TopicPartition(topics.ChatState, partition), MarkerKey, Finished);
        sink.WaitForAcks(cancellationToken);
    }

    /// <summary>
    /// Writes the rebuilt states to <c>chat.state</c> partition <paramref name="partition"/>: a
    /// "started" marker, every state, a "finished" marker, all acknowledged before it returns (one
    /// partition, produced in order). An owner that finds "started" last rebuilds again.
    /// </summary>
    public void Write(IRecordSink sink, int partition, Dictionary<string, ChatState> chats, CancellationToken cancellationToken)
    {
        var target = new TopicPartition(topics.ChatState, partition);
        sink.Produce(target, MarkerKey, Started);
        foreach (var (chatId, state) in chats)
        {
            sink.Produce(target, chatId, ChatStateCodec.Encode(state));
        }

        sink.Produce(target, MarkerKey, Finished);
        sink.WaitForAcks(cancellationToken);
    }
}
