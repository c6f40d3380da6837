using Messaging.Contracts.Devices;
using Messaging.Contracts.Serialization;
using Messaging.Contracts.Topics;
using Messaging.Edge.Commands;
using Messaging.Hosting.Kafka;
using Microsoft.Extensions.Options;

namespace Messaging.Edge.Conversation;

/// <summary>
/// Every user's settings, from the compacted <c>user.settings</c> topic (key: user id; read from
/// the beginning and caught up before the node serves, then tailed). A user without a record has
/// the defaults (read receipts on). Edge writes it: a setting is the user's own choice, last
/// writer wins, so it needs no decision in the Router.
/// </summary>
internal sealed class UserSettingsDirectory : IHostedService, IAsyncDisposable
{
    private readonly CompactedTopicTable<UserSettingsChanged> _table;
    private readonly EdgeProducer _producer;
    private readonly TopicNames _topics;
    private readonly TimeProvider _clock;
    private readonly TimeSpan _catchUp;
    private int _disposed;

    public UserSettingsDirectory(KafkaClientFactory clients, EdgeProducer producer, TopicNames topics, IOptions<EdgeOptions> options, TimeProvider clock, ILogger<UserSettingsDirectory> logger)
    {
        _producer = producer;
        _topics = topics;
        _clock = clock;
        _catchUp = TimeSpan.FromMilliseconds(options.Value.DeviceCommandTimeoutMs);
        _table = new CompactedTopicTable<UserSettingsChanged>(clients, topics.UserSettings, bytes => Codecs.Devices.Decode(bytes).Value as UserSettingsChanged, logger);
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _table.Start();
        await _table.WaitCaughtUpAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Whether the user shows and sees read receipts (default on).</summary>
    public bool ReadReceipts(string userId) => !_table.TryGet(userId, out var row) || row.ReadReceipts;

    /// <summary>
    /// Appends the user's new settings and waits until this node's table holds them, so the next
    /// request on this node obeys them; other nodes follow within their tailing delay.
    /// </summary>
    public async Task<bool> SetAsync(string userId, bool readReceipts, CancellationToken cancellationToken)
    {
        var record = new UserSettingsChanged { UserId = userId, ReadReceipts = readReceipts, ChangedAt = _clock.GetUtcNow() };
        await _producer.ProduceAsync(_topics.UserSettings, userId, Codecs.Devices.Encode(record), cancellationToken);
        return await _table.CatchUpAsync(_catchUp, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        // Registered as a singleton and as a hosted service (same instance): disposed twice.
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _table.DisposeAsync();
    }
}
