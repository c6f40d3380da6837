using Confluent.Kafka;
using Messaging.Contracts.Topics;
using Messaging.Hosting.Kafka;
using Messaging.Router.Chats;

namespace Messaging.Router.Routing;

/// <summary>
/// Rebuilds the chat states of <c>chat.commands</c> partitions from the same-numbered partitions
/// of the compacted <c>chat.state</c> topic: read from the beginning to the high watermark as of
/// the assignment, the latest record per chat wins.
/// </summary>
public sealed class ChatStateRestorer(KafkaClientFactory clients, TopicNames topics, int recentCapacity)
{
    public Dictionary<int, Dictionary<string, ChatState>> Restore(IReadOnlyCollection<int> partitions, CancellationToken cancellationToken)
    {
        var result = new Dictionary<int, Dictionary<string, ChatState>>();
        foreach (var p in partitions)
        {
            result[p] = new Dictionary<string, ChatState>(StringComparer.Ordinal);
        }

        if (partitions.Count == 0)
        {
            return result;
        }

        // No group: the reader never commits, it always replays the compacted log.
        var config = clients.ConsumerConfig($"router-restore-{Guid.NewGuid():N}", "router-restore");
        config.EnablePartitionEof = true;
        config.AutoOffsetReset = AutoOffsetReset.Earliest;
        using var consumer = new ConsumerBuilder<string, byte[]>(config).Build();
        var pending = new Dictionary<int, long>();
        var assignment = new List<TopicPartitionOffset>(partitions.Count);
        foreach (var p in partitions)
        {
            var tp = new TopicPartition(topics.ChatState, p);
            var marks = consumer.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(10));
            if (marks.High.Value > marks.Low.Value)
            {
                pending[p] = marks.High.Value;
                assignment.Add(new TopicPartitionOffset(tp, Offset.Beginning));
            }
        }

        if (assignment.Count == 0)
        {
            return result;
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
                if (record.Message.Value is null)
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
        return result;
    }
}
