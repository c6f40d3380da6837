using System.ComponentModel.DataAnnotations;
using Messaging.Router.Chats;
using Messaging.Router.Devices;
using Microsoft.Extensions.Options;

namespace Messaging.Router;

/// <summary>Router settings (section <c>Router</c>), validated at start.</summary>
public sealed class RouterOptions
{
    public const string Section = "Router";

    /// <summary>Consumer group over <c>chat.commands</c>; prefixed with <c>Kafka:TopicPrefix</c> so namespaces on one broker never share a group.</summary>
    [Required]
    public string GroupId { get; set; } = "router";

    /// <summary>Most commands decided per batch.</summary>
    [Range(1, 100_000)]
    public int MaxBatch { get; set; } = 2000;

    /// <summary>Members of a group, the creator included.</summary>
    [Range(2, 100_000)]
    public int MaxGroupMembers { get; set; } = 1024;

    /// <summary>Largest message body in UTF-8 bytes.</summary>
    [Range(1, 1_048_576)]
    public int MaxBodyBytes { get; set; } = 65536;

    /// <summary>Client message ids remembered per chat to de-duplicate retried sends.</summary>
    [Range(0, 100_000)]
    public int RecentClientMsgIds { get; set; } = 1000;

    /// <summary>
    /// Largest <c>chat.state</c> record the producer and broker accept (librdkafka
    /// <c>message.max.bytes</c> default 1,000,000; Kafka 0.9 broker default 1,000,012). The worst
    /// case the other limits allow (<see cref="ChatStateBounds"/>) must fit, checked at start.
    /// </summary>
    [Range(10_000, 100_000_000)]
    public int MaxStateRecordBytes { get; set; } = 1_000_000;
    /// <summary>Consumer group over <c>user.commands</c> (device registrations and removals), prefixed like <see cref="GroupId"/>.</summary>
    [Required]
    public string DevicesGroupId { get; set; } = "router-devices";

    /// <summary>Registered devices per user; registering one more is refused with <c>too_many_devices</c>.</summary>
    [Range(1, 1000)]
    public int MaxDevicesPerUser { get; set; } = 5;

    /// <summary>
    /// Removed devices remembered per user (each stays refused until signed in again); the oldest
    /// is forgotten first, so a user's <c>user.devices</c> record stays small.
    /// </summary>
    [Range(1, 10_000)]
    public int MaxRemovedDevicesPerUser { get; set; } = 100;

    /// <summary>Create missing topics at start (always done when <c>Kafka:TopicPrefix</c> is set).</summary>
    public bool EnsureTopics { get; set; }

    /// <summary>How long one poll waits for the first command of a batch; bounds how fast a stop is noticed.</summary>
    [Range(10, 10_000)]
    public int PollMilliseconds { get; set; } = 100;

    /// <summary>
    /// How long a batch stays open for more commands after its first one (ms; 0: a batch is what
    /// was already fetched). Every batch costs a directory <c>ListOffsets</c> and a push produce,
    /// and each push produce wakes every Edge node's fetch: at 500 sends/s batches held one or two
    /// commands and the Router made 1,400–1,700 of the broker's 2,400–2,800 requests/s (docs/benchmarks.md).
    /// 5 ms cut the whole server's CPU at 500 sends/s by 14–25 % and added ~4 ms to p50.
    /// </summary>
    [Range(0, 1000)]
    public int BatchLingerMs { get; set; } = 5;

    /// <summary>
    /// How long one attempt waits, per batch, for the device directory to read <c>user.devices</c>
    /// and <c>device.sessions</c> up to their current end before deciding (read-your-writes for
    /// devices registered just before a send); after each timed-out attempt a warning is logged and
    /// the Router keeps waiting. 0 turns the catch-up off.
    /// </summary>
    [Range(0, 60_000)]
    public int DirectoryCatchUpMs { get; set; } = 2000;

    /// <summary>
    /// How often the Router acknowledges what it produced, writes one <c>chat.state</c> snapshot per
    /// chat changed since the last time and commits the offsets (docs/router.md, "Flushes"). Events
    /// and pushes go out as each batch is decided, whatever this is. 0: after every batch. A crash
    /// re-decides at most this much of the log again (the same events: consumers de-duplicate).
    /// Each flush rewrites every changed chat's whole snapshot (up to ~150 KB): at 4,000 sends/s
    /// 2,000 instead of 500 cut the Router from ~31 to 24–25 % of a core (docs/benchmarks.md, tenth session).
    /// </summary>
    [Range(0, 60_000)]
    public int StateFlushMs { get; set; } = 2000;

    /// <summary>
    /// A flush runs alongside the next batches instead of holding them up (docs/router.md,
    /// "Flushes"): its acknowledgements, state writes and commit are awaited between batches, never
    /// blocking a decision; the order (acks, then states, then commit) is the same. False: every
    /// flush blocks the loop, as before 2026-11-26 (a profile at 2,000 sends/s found the loop
    /// waiting in flushes ~15 % of the time, ~75 ms each; docs/benchmarks.md, "fifth session").
    /// Revocations and stops always flush blocking.
    /// </summary>
    public bool PipelineFlush { get; set; } = true;

    /// <summary>
    /// The <c>chat.state</c> topic, under <c>Kafka:TopicPrefix</c> (empty: <c>chat.state</c>). Pointing
    /// the Router at a fresh name loses its state cache on purpose: each partition is rebuilt from
    /// <c>chat.events</c> (docs/router.md, "Rebuilding chat.state from chat.events").
    /// </summary>
    public string ChatStateTopic { get; set; } = "";

    /// <summary>
    /// Rebuild every assigned partition's chat states from <c>chat.events</c> instead of restoring
    /// them from <c>chat.state</c>, at every assignment while set (a full restore, for a
    /// <c>chat.state</c> that is damaged rather than empty; an empty one is rebuilt anyway).
    /// </summary>
    public bool RebuildStateFromEvents { get; set; }

    /// <summary>
    /// On SIGTERM the Router stops taking commands, decides the batch in hand, flushes (acks,
    /// states) and commits before leaving the group, for at most this long; under the host's
    /// 30 s shutdown timeout.
    /// </summary>
    [Range(0, 25_000)]
    public int DrainTimeoutMs { get; set; } = 10_000;

    /// <summary>
    /// The partition of every <c>delivery.node-k</c> topic the Router writes its node records to
    /// (-1: by chat id, through the partitioner, as before 2026-11-26). librdkafka sends one produce
    /// request per partition and, with <c>max.in.flight</c> 1 (Kafka 0.9), one at a time per
    /// connection: a batch spread over a node topic's partitions costs a broker request per partition
    /// in series. Per-chat order holds either way (a chat's records always go to one partition),
    /// and an Edge node reads every partition of its topic with one consumer. Must exist in every
    /// node topic (they are provisioned with 1 partition; auto-created ones have the broker's default).
    /// </summary>
    [Range(-1, 1023)]
    public int DeliveryPartition { get; set; }

    /// <summary>
    /// Node records (pushes, refusals, duplicate notices) go through a second producer with its own
    /// broker connection (false: one producer for everything, as before 2026-11-26). With
    /// <c>max.in.flight</c> 1 (Kafka 0.9) a connection carries one produce request, for one
    /// partition, at a time: a batch's pushes queued behind its <c>chat.events</c> requests, one per
    /// command partition. A flush waits for both producers' acknowledgements.
    /// </summary>
    public bool PushProducer { get; set; } = true;

    /// <summary>
    /// How long an idle loop waits for commands while a flush is in flight (ms), instead of
    /// <see cref="PollMilliseconds"/>: the flush moves on only between batches, so its commit follows
    /// its acknowledgements by at most this much.
    /// </summary>
    [Range(1, 1000)]
    public int InFlightPollMs { get; set; } = 5;

    public ChatLimits Limits() => new(MaxGroupMembers, MaxBodyBytes, RecentClientMsgIds);

    public DeviceLimits DeviceLimits() => new(MaxDevicesPerUser, MaxRemovedDevicesPerUser);
}

/// <summary>Refuses limits under which a chat's state record could outgrow what the broker accepts.</summary>
internal sealed class RouterOptionsValidator : IValidateOptions<RouterOptions>
{
    public ValidateOptionsResult Validate(string? name, RouterOptions options)
    {
        var worst = ChatStateBounds.WorstCaseBytes(options.Limits());
        return worst <= options.MaxStateRecordBytes
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(
                $"Router:MaxGroupMembers and Router:RecentClientMsgIds allow a chat.state record of {worst} bytes, over Router:MaxStateRecordBytes ({options.MaxStateRecordBytes}).");
    }
}
