using Confluent.Kafka;
using Messaging.Contracts.Topics;
using Messaging.Hosting.Kafka;
using Messaging.Router.Chats;

namespace Messaging.Router.Routing;

/// <summary>
/// What an assignment restored: the chats per partition, the partitions whose states must be
/// rebuilt from <c>chat.events</c>, and the partitions never decided before (both topics empty),
/// whose <c>chat.state</c> gets a marker before their first command is decided.
/// </summary>
public sealed record RestoredStates(Dictionary<int, Dictionary<string, ChatState>> Chats, IReadOnlyList<int> ToRebuild, IReadOnlyList<int> ToMark);

/// <summary>
/// Rebuilds the chat states of <c>chat.commands</c> partitions from the same-numbered partitions
/// of the compacted <c>chat.state</c> topic: read from the beginning to the high watermark as of
/// the assignment, the latest record per chat wins. A partition is rebuilt from <c>chat.events</c>
/// instead (<see cref="ChatStateRebuilder"/>) when its <c>chat.state</c> partition is empty while
/// its <c>chat.events</c> partition is not (the cache was lost), when its last rebuild marker says
/// a rebuild was started and never finished, or always with <c>Router:RebuildStateFromEvents</c>.
/// A partition with both topics empty is new: its first owner marks <c>chat.state</c> before
/// deciding (<see cref="ChatStateRebuilder.Mark"/>), so "empty" later always means "lost", never
/// "its owner died before its first flush" (the events of such an owner may lack their deliveries,
/// and a rebuild from them would answer the re-decided commands as duplicates and route nothing:
/// seen as a missed live delivery in RouterFailoverTests, 2026-11-26).
/// </summary>
public sealed class ChatStateRestorer(KafkaClientFactory clients, TopicNames topics, int recentCapacity, bool rebuildAlways = false)
{
    public RestoredStates Restore(IReadOnlyCollection<int> partitions, CancellationToken cancellationToken)
    {
        var result = new Dictionary<int, Dictionary<string, ChatState>>();
        var toRebuild = new List<int>();
        var toMark = new List<int>();
        foreach (var p in partitions)
        {
            result[p] = new Dictionary<string, ChatState>(StringComparer.Ordinal);
        }

        if (partitions.Count == 0)
        {
            return new RestoredStates(result, toRebuild, toMark);
        }

        // No group: the reader never commits, it always replays the compacted log.
        var config = clients.ConsumerConfig($"router-restore-{Guid.NewGuid():N}", "router-restore");
        config.EnablePartitionEof = true;
        config.AutoOffsetReset = AutoOffsetReset.Earliest;
        using var consumer = new ConsumerBuilder<string, byte[]>(config).Build();
        var pending = new Dictionary<int, long>();
        var markers = new Dictionary<int, bool>();
        var assignment = new List<TopicPartitionOffset>(partitions.Count);
        foreach (var p in partitions)
        {
            if (rebuildAlways)
            {
                toRebuild.Add(p);
                continue;
            }

            var tp = new TopicPartition(topics.ChatState, p);
            var marks = consumer.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(10));
            if (marks.High.Value > marks.Low.Value)
            {
                pending[p] = marks.High.Value;
                assignment.Add(new TopicPartitionOffset(tp, Offset.Beginning));
            }
            else
            {
                var events = consumer.QueryWatermarkOffsets(new TopicPartition(topics.ChatEvents, p), TimeSpan.FromSeconds(10));
                if (events.High.Value > events.Low.Value)
                {
                    toRebuild.Add(p);
                }
                else
                {
                    toMark.Add(p);
                }
            }
        }

        if (assignment.Count == 0)
        {
            return new RestoredStates(result, toRebuild, toMark);
        }

        consumer.Assign(assignment);
        while (pending.Count > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var record = consumer.Consume(TimeSpan.FromMilliseconds(100));
            if (record is null)
            {
                continue;
            }

            var p = record.Partition.Value;
            if (!record.IsPartitionEOF && record.Message.Key is { } chatId)
            {
                if (ChatStateRebuilder.IsMarker(chatId))
                {
                    markers[p] = ChatStateRebuilder.IsFinished(record.Message.Value);
                }
                else if (record.Message.Value is null)
                {
                    result[p].Remove(chatId);
                }
                else
                {
                    result[p][chatId] = ChatStateCodec.Decode(record.Message.Value, recentCapacity);
                }
            }

            if (pending.TryGetValue(p, out var high) && (record.IsPartitionEOF || record.Offset.Value + 1 >= high))
            {
                pending.Remove(p);
            }
        }

        consumer.Close();
        foreach (var (p, finished) in markers)
        {
            if (!finished)
            {
                // A rebuild wrote part of the partition and died: what is there may miss chats.
                toRebuild.Add(p);
            }
        }

        return new RestoredStates(result, toRebuild, toMark);
    }
}
