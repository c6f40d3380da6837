using System.ComponentModel.DataAnnotations;

namespace Messaging.Edge.EventStream;

/// <summary>The HTTP fallback transport (section <c>EventStream</c>): SSE pushes and command posts.</summary>
public sealed class EventStreamOptions
{
    public const string Section = "EventStream";

    /// <summary>
    /// How long a session outlives its dropped event stream, queueing frames (within the same
    /// send-queue budget as a socket), so a reconnect with <c>Last-Event-ID</c> resumes it with
    /// nothing missed. EventSource reconnects after <see cref="RetryMs"/>; 20 s covers a phone
    /// switching networks. The device shows online meanwhile.
    /// </summary>
    [Range(0, 600)]
    public int ResumeSeconds { get; set; } = 20;

    /// <summary>Frames already written that a resume can replay (those the dropped stream may not have delivered).</summary>
    [Range(0, 100_000)]
    public int ReplayFrames { get; set; } = 256;

    /// <summary>Bytes of written frames kept for replay, whatever their number: the replay's memory bound per session.</summary>
    [Range(0, 64 * 1024 * 1024)]
    public int ReplayBytes { get; set; } = 256 * 1024;

    /// <summary>A comment line on an idle stream this often: proxies close silent connections, and a dead peer is found.</summary>
    [Range(1, 300)]
    public int KeepAliveSeconds { get; set; } = 15;

    /// <summary>The <c>retry:</c> the stream announces: how soon EventSource reconnects after a drop.</summary>
    [Range(100, 60_000)]
    public int RetryMs { get; set; } = 1000;

    public TimeSpan Resume => TimeSpan.FromSeconds(ResumeSeconds);

    public TimeSpan KeepAlive => TimeSpan.FromSeconds(KeepAliveSeconds);
}
