using System.ComponentModel.DataAnnotations;
using Messaging.Hosting;
using Microsoft.Extensions.Options;

namespace Messaging.Edge;

/// <summary>Settings of one Edge node (section <c>Edge</c>), validated at start.</summary>
public sealed class EdgeOptions
{
    public const string Section = "Edge";

    /// <summary>This node's id k: it reads <c>delivery.node-k</c> (0 … <c>Cluster:EdgeNodes</c>-1).</summary>
    [Range(0, 255)]
    public int NodeId { get; set; }

    /// <summary>Largest WebSocket message accepted from a client; a bigger one is skipped with <c>too_large</c>.</summary>
    [Range(1024, 16 * 1024 * 1024)]
    public int MaxFrameBytes { get; set; } = 96 * 1024;

    /// <summary>Largest message body (UTF-8 bytes).</summary>
    [Range(1, 16 * 1024 * 1024)]
    public int MaxBodyBytes { get; set; } = 64 * 1024;

    /// <summary>Longest id a client may send (chat, user, device, client message, frame ids).</summary>
    [Range(8, 1024)]
    public int MaxIdLength { get; set; } = 128;

    /// <summary>
    /// Frames waiting to be written to one socket. When a live push finds it full the client is
    /// too slow and is closed (4003): memory per connection stays bounded.
    /// </summary>
    [Range(4, 1_000_000)]
    public int SendQueueCapacity { get; set; } = 1024;

    /// <summary>
    /// Writes WebSocket frames straight to the TCP socket (a push to an idle socket is one
    /// non-blocking send on the delivery thread) instead of through ManagedWebSocket and Kestrel's
    /// output pipe. Only for HTTP/1.1 upgrades on plain TCP; TLS and HTTP/2 always go through Kestrel.
    /// </summary>
    public bool DirectSocketWrites { get; set; } = true;

    /// <summary>
    /// Seconds of silence after which an idle connection is probed: by the kernel's TCP keepalive
    /// when <see cref="TcpKeepAlive"/> is on and the connection has a TCP socket, otherwise by
    /// ManagedWebSocket's unsolicited pong (a timer per socket). 120: ASP.NET Core's default.
    /// </summary>
    [Range(1, 7200)]
    public int KeepAliveSeconds { get; set; } = 120;

    /// <summary>Leave keep-alive to the kernel's TCP keepalive (no timer per socket in the process; see <c>TcpKeepAlive</c>).</summary>
    public bool TcpKeepAlive { get; set; } = true;

    /// <summary>Seconds between TCP keepalive probes once <see cref="KeepAliveSeconds"/> passed in silence.</summary>
    [Range(1, 3600)]
    public int TcpKeepAliveIntervalSeconds { get; set; } = 15;

    /// <summary>Unanswered TCP keepalive probes after which the connection fails (with the defaults a vanished peer is found after ~3 minutes of silence).</summary>
    [Range(1, 127)]
    public int TcpKeepAliveProbes { get; set; } = 4;

    /// <summary>
    /// Lanes that write the delivery thread's pushes on the thread pool when
    /// <see cref="DirectSocketWrites"/> is on (0: one per processor). Each socket stays on one
    /// lane, so its pushes keep their order.
    /// </summary>
    [Range(0, 256)]
    public int PushLanes { get; set; }

    /// <summary>
    /// Pushes a lane writes before it gives its thread back to the pool and queues itself again,
    /// so the sockets' reads are not held behind a large fan-out.
    /// </summary>
    [Range(1, 100_000)]
    public int PushLaneBatch { get; set; } = 64;

    /// <summary>
    /// Encoded bytes one socket may have queued (live and sync frames together). A live push that
    /// would pass it closes the client (4003), so a client that stops reading costs the node at
    /// most this much. 1 MiB: a phone on a slow link drains ~100 KiB/s, so this is seconds of
    /// backlog, and 10,000 stuck sockets cost at most 10 GiB instead of the unbounded
    /// frames × 6 × body (JSON escapes <c>&lt;</c> as six bytes) of a frame count alone. Must hold
    /// at least 8 × <c>MaxBodyBytes</c> (one worst-case escaped frame with room to spare).
    /// </summary>
    [Range(64 * 1024, 1L << 32)]
    public long MaxQueuedBytesPerConnection { get; set; } = 1024 * 1024;

    /// <summary>
    /// A sync stream waits while the socket's queue holds more than this many bytes (paced by the
    /// client's reading); the rest of <c>MaxQueuedBytesPerConnection</c> stays free for live
    /// frames, so a sync never gets a healthy client closed. At most half the budget.
    /// </summary>
    [Range(1024, 1L << 31)]
    public long SyncQueueBytes { get; set; } = 256 * 1024;

    /// <summary>Requests of one connection being processed at once (pipelined sends wait for broker acks).</summary>
    [Range(1, 100_000)]
    public int MaxInflightRequests { get; set; } = 256;

    /// <summary>
    /// Chats per connection whose ackable seq is remembered (see <c>AckableSeqs</c>): a device acks
    /// the few chats it is active in; past this the memory is cleared and the next ack of each chat
    /// costs one indexed lookup.
    /// </summary>
    [Range(1, 100_000)]
    public int AckableChatsPerConnection { get; set; } = 64;

    /// <summary>
    /// Live <c>message</c> pushes carry <c>acceptedAt</c> and <c>pushedAt</c> (docs/protocol.md), so
    /// <c>make bench</c> can split the latency per hop. Off by default: ~90 bytes more per frame that
    /// a phone does not need; <c>make run</c> (appsettings.Local.json) turns it on.
    /// </summary>
    public bool HopTimestamps { get; set; }

    /// <summary>
    /// The node's lease (and a session record's own, until a reader has the node's): a killed node's
    /// devices count as offline at most this long after its last renewal. Renewed every third of it.
    /// </summary>
    [Range(3, 3600)]
    public int SessionLeaseSeconds { get; set; } = 30;

    /// <summary>
    /// How long a connecting device (or a <c>device.remove</c>) waits for the Router's decision on
    /// its <c>user.commands</c> command before the client gets <c>unavailable</c>.
    /// </summary>
    [Range(100, 600_000)]
    public int DeviceCommandTimeoutMs { get; set; } = 10_000;

    /// <summary>
    /// Users one connection may watch at once (and ask about in one <c>presence.get</c>): each
    /// watch is an entry in this node's index and a push per change, so a client cannot make the
    /// node hold or send without bound.
    /// </summary>
    [Range(1, 100_000)]
    public int MaxPresenceWatches { get; set; } = 500;

    /// <summary>
    /// How often watched users who are online are re-evaluated: an expired lease produces no
    /// record, so only this sweep notices a crashed node's devices going offline.
    /// </summary>
    [Range(1, 3600)]
    public int PresenceSweepSeconds { get; set; } = 5;

    /// <summary>Inbox rows read per PostgreSQL query while streaming a sync.</summary>
    [Range(1, 100_000)]
    public int SyncPageSize { get; set; } = 200;

    /// <summary>
    /// How long a <c>sync</c> waits for the chat projection (history and membership, which the
    /// inbox is computed from) to apply every <c>chat.events</c> record that existed when the
    /// sync began, and for this node's device list to know the device. Past it, the sync streams what is there and
    /// marks <c>sync.done</c> <c>partial</c>: a projection that is down must not hang clients.
    /// </summary>
    [Range(100, 600_000)]
    public int SyncCatchUpMs { get; set; } = 5_000;

    /// <summary>How often a waiting <c>sync</c> re-reads the projections' checkpoints.</summary>
    [Range(1, 10_000)]
    public int SyncCatchUpPollMs { get; set; } = 20;

    /// <summary>History page size when the request has no limit.</summary>
    [Range(1, 10_000)]
    public int HistoryPageSize { get; set; } = 50;

    [Range(1, 10_000)]
    public int HistoryMaxPageSize { get; set; } = 500;

    /// <summary>How long a produce may wait for the broker before the client gets <c>unavailable</c>.</summary>
    [Range(100, 600_000)]
    public int ProduceTimeoutMs { get; set; } = 10_000;

    /// <summary>
    /// How long the node's command producer waits to fill a produce request (librdkafka's
    /// <c>linger.ms</c>; -1: the Kafka profile's, 1 ms). Every send waits up to this long more for
    /// its <c>message.accepted</c>. At 5 ms (against 1) the bench's ladder used 8–14 % less server
    /// CPU at 500 and 2,000 sends/s, the broker answered 19–26 % fewer requests, and p50 rose ~3 ms
    /// (docs/benchmarks.md, eleventh session).
    /// </summary>
    [Range(-1, 1000)]
    public int CommandLingerMs { get; set; } = 5;

    /// <summary>
    /// <c>device.acks</c> records and the receipts (<c>ReceiptsRouted</c>) go through a producer of
    /// their own that lingers this long to fill its requests (-1: through the node's command
    /// producer, as before 2026-11-26). An ack has no reply and feeds receipts flushed every
    /// <c>Conversation:ReceiptFlushMs</c>, so both can wait;
    /// a send cannot, and with <c>max.in.flight</c> 1 (Kafka 0.9) every ack or receipt request on
    /// the shared connection held the next command request back (docs/benchmarks.md, "Acks on their own producer").
    /// </summary>
    [Range(-1, 1000)]
    public int AckLingerMs { get; set; } = 50;

    /// <summary>
    /// How long the node gathers acks into one <c>device.acks</c> record (<c>DeliveriesAcked</c>;
    /// 0: each ack is written as soon as the previous batch started). An ack has no reply and its
    /// receipt waits for <c>Conversation:ReceiptFlushMs</c> anyway.
    /// </summary>
    [Range(0, 1000)]
    public int AckBatchMs { get; set; } = 50;

    /// <summary>
    /// The most acks in one <c>device.acks</c> record: ~150 bytes each, so 1,000 stay far below the
    /// broker's 1 MB record limit (<c>message.max.bytes</c>).
    /// </summary>
    [Range(1, 5000)]
    public int AckBatchMaxAcks { get; set; } = 1000;

    /// <summary>
    /// The most bytes of one <c>device.acks</c> record, bounded from each ack's ids (client-chosen,
    /// up to <c>MaxIdLength</c>): below the broker's 1 MB record limit, or a batch that can never
    /// be written would answer its acks <c>unavailable</c> again and again.
    /// </summary>
    [Range(1024, 900_000)]
    public int AckBatchMaxBytes { get; set; } = 512 * 1024;

    /// <summary>Ack batches being written at once (each waits for the broker's acknowledgement).</summary>
    [Range(1, 64)]
    public int AckBatchesInFlight { get; set; } = 8;

    /// <summary>Acks waiting for a batch; past this an ack frame waits for room (it holds one of its connection's in-flight slots).</summary>
    [Range(1, 1_000_000)]
    public int AckQueueCapacity { get; set; } = 65_536;

    /// <summary>How long a server-initiated close may take before the socket is aborted.</summary>
    [Range(1, 300)]
    public int CloseTimeoutSeconds { get; set; } = 5;

    /// <summary>Create missing topics at start (always done when <c>Kafka:TopicPrefix</c> is set).</summary>
    public bool EnsureTopics { get; set; }

    /// <summary>
    /// Longest a SIGTERM drain waits for its sockets to close after withdrawing their sessions
    /// (docs/operations.md, "Graceful drain"); must stay under the host's shutdown timeout (30 s).
    /// </summary>
    [Range(0, 25_000)]
    public int DrainTimeoutMs { get; set; } = 10_000;

    /// <summary>
    /// Where a draining node sends its clients: the close reason of its 1001 closes is
    /// <c>reconnect {url}</c> (another node's WebSocket URL, or a load balancer's). Empty: the
    /// reason is <c>server shutting down</c> and clients use their own list of nodes.
    /// </summary>
    [MaxLength(100)]
    public string DrainReconnectUrl { get; set; } = "";

    public TimeSpan SessionLease => TimeSpan.FromSeconds(SessionLeaseSeconds);

    public TimeSpan CloseTimeout => TimeSpan.FromSeconds(CloseTimeoutSeconds);

    public TimeSpan PresenceSweep => TimeSpan.FromSeconds(PresenceSweepSeconds);

    public TimeSpan SyncCatchUp => TimeSpan.FromMilliseconds(SyncCatchUpMs);

    public TimeSpan SyncCatchUpPoll => TimeSpan.FromMilliseconds(SyncCatchUpPollMs);
}

/// <summary>Checks what data annotations cannot: the node id fits the cluster's node topics.</summary>
internal sealed class EdgeOptionsValidator(IOptions<ClusterOptions> cluster) : IValidateOptions<EdgeOptions>
{
    public ValidateOptionsResult Validate(string? name, EdgeOptions options)
    {
        var nodes = cluster.Value.EdgeNodes;
        if (options.NodeId >= nodes)
        {
            return ValidateOptionsResult.Fail($"Edge:NodeId {options.NodeId} must be below Cluster:EdgeNodes ({nodes}).");
        }

        if (options.HistoryPageSize > options.HistoryMaxPageSize)
        {
            return ValidateOptionsResult.Fail("Edge:HistoryPageSize must not exceed Edge:HistoryMaxPageSize.");
        }

        if (options.SyncCatchUpPollMs >= options.SyncCatchUpMs)
        {
            return ValidateOptionsResult.Fail("Edge:SyncCatchUpPollMs must be below Edge:SyncCatchUpMs.");
        }

        if (options.MaxQueuedBytesPerConnection < 8L * options.MaxBodyBytes)
        {
            return ValidateOptionsResult.Fail("Edge:MaxQueuedBytesPerConnection must be at least 8 × Edge:MaxBodyBytes (one frame whose body JSON-escapes six-fold, with room to spare).");
        }

        if (options.SyncQueueBytes > options.MaxQueuedBytesPerConnection / 2)
        {
            return ValidateOptionsResult.Fail("Edge:SyncQueueBytes must be at most half of Edge:MaxQueuedBytesPerConnection (the rest is for live frames).");
        }

        if (options.MaxBodyBytes >= options.MaxFrameBytes)
        {
            return ValidateOptionsResult.Fail("Edge:MaxBodyBytes must be below Edge:MaxFrameBytes (the frame carries the body plus its envelope).");
        }

        return ValidateOptionsResult.Success;
    }
}
