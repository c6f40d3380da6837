using Marten;
using Messaging.Contracts.Events;
using Messaging.Contracts.Serialization;
using Npgsql;

namespace Messaging.Bench.Marten;

/// <summary>One record of <c>chat.events</c> as the ingest sees it.</summary>
public readonly record struct IngestRecord(string Topic, int Partition, long Offset, byte[]? Value);

/// <summary>What one page did: events appended, duplicates recognised, records that did not decode.</summary>
public readonly record struct IngestOutcome(int Appended, int Duplicates, int Undecodable);

/// <summary>
/// Copies pages of <c>chat.events</c> into Marten: one stream per chat (string id = chat id,
/// version = seq), and the partitions' next offsets as <see cref="KafkaPosition"/> documents, all
/// in ONE <c>SaveChangesAsync</c> (one transaction). Kafka stays the log of record; the stream
/// versions make a Router duplicate visible (its seq is at or below the stream's version).
/// </summary>
public sealed class MartenChatIngest(IDocumentStore store, NpgsqlDataSource dataSource, string schema)
{
    /// <summary>Stream versions this writer knows (after its own commits); others are read once from <c>mt_streams</c>.</summary>
    private readonly Dictionary<string, long> _versions = new(StringComparer.Ordinal);

    private readonly string _versionsSql = $"select id, version from {schema}.mt_streams where id = any($1)";

    /// <summary>The saved positions, per <see cref="KafkaPosition.IdOf"/>, to resume from.</summary>
    public async Task<Dictionary<string, long>> PositionsAsync(CancellationToken cancellationToken)
    {
        await using var session = store.QuerySession();
        var all = await session.Query<KafkaPosition>().ToListAsync(cancellationToken);
        var result = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var p in all)
        {
            result[p.Id] = p.NextOffset;
        }

        return result;
    }

    public async Task<IngestOutcome> ApplyAsync(IReadOnlyList<IngestRecord> page, CancellationToken cancellationToken)
    {
        var byChat = new Dictionary<string, List<ChatEvent>>(StringComparer.Ordinal);
        var next = new Dictionary<string, long>(StringComparer.Ordinal);
        var undecodable = 0;
        for (var i = 0; i < page.Count; i++)
        {
            var r = page[i];
            next[KafkaPosition.IdOf(r.Topic, r.Partition)] = r.Offset + 1;
            var decoded = r.Value is null ? default : Codecs.Events.Decode(r.Value);
            if (!decoded.IsOk || decoded.Value is not { } e)
            {
                // The Npgsql projections park these as dead letters; the evaluation only counts them.
                undecodable++;
                continue;
            }

            if (!byChat.TryGetValue(e.ChatId, out var events))
            {
                byChat[e.ChatId] = events = [];
            }

            events.Add(e);
        }

        await LoadVersionsAsync(byChat.Keys, cancellationToken);
        await using var session = store.LightweightSession();
        var appended = 0;
        var duplicates = 0;
        var after = new List<(string Chat, long Version)>(byChat.Count);
        foreach (var (chat, events) in byChat)
        {
            var plan = StreamAppendPlan.For(_versions.GetValueOrDefault(chat), events);
            if (plan.GapAfter is { } gap)
            {
                throw new InvalidOperationException($"chat {chat}: the log skips a seq after {gap} (version = seq would break)");
            }

            duplicates += plan.Duplicates;
            if (plan.Append.Count == 0)
            {
                continue;
            }

            session.Events.Append(chat, plan.ExpectedVersion, plan.Append);
            appended += plan.Append.Count;
            after.Add((chat, plan.ExpectedVersion));
        }

        foreach (var (id, offset) in next)
        {
            session.Store(new KafkaPosition { Id = id, NextOffset = offset });
        }

        try
        {
            await session.SaveChangesAsync(cancellationToken);
        }
        catch (Exception)
        {
            // Another writer moved a stream (or the database failed): forget what we believed.
            _versions.Clear();
            throw;
        }

        foreach (var (chat, version) in after)
        {
            _versions[chat] = version;
        }

        return new IngestOutcome(appended, duplicates, undecodable);
    }

    private async Task LoadVersionsAsync(IEnumerable<string> chats, CancellationToken cancellationToken)
    {
        var unknown = new List<string>();
        foreach (var chat in chats)
        {
            if (!_versions.ContainsKey(chat))
            {
                unknown.Add(chat);
            }
        }

        if (unknown.Count == 0)
        {
            return;
        }

        await using var command = dataSource.CreateCommand(_versionsSql);
        command.Parameters.Add(new NpgsqlParameter { Value = unknown.ToArray() });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            _versions[reader.GetString(0)] = reader.GetInt64(1);
        }

        // A chat without a stream starts at version 0: its first event must be seq 1.
        foreach (var chat in unknown)
        {
            _versions.TryAdd(chat, 0);
        }
    }
}
