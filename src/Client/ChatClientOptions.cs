using Messaging.Contracts.Protocol;

namespace Messaging.Client;

public sealed class ChatClientOptions
{
    /// <summary>
    /// Called on the receive loop for every frame the server sends (replies included), before
    /// anything else sees it. Keep it fast: it delays the next frame.
    /// </summary>
    public Action<ServerFrame>? OnFrame { get; init; }

    /// <summary>
    /// Whether frames that are not replies to <see cref="ChatClient.RequestAsync{TReply}"/> are kept
    /// for <see cref="ChatClient.Frames"/> / <see cref="ChatClient.WaitForAsync{TFrame}"/>. A load
    /// generator that only uses <see cref="OnFrame"/> turns this off so memory stays flat.
    /// </summary>
    public bool BufferFrames { get; init; } = true;

    /// <summary>Largest frame accepted from the server (history pages can be big).</summary>
    public int MaxReceiveFrameBytes { get; init; } = 16 * 1024 * 1024;

    /// <summary>How long request helpers wait for their reply.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// <see cref="ChatClient.ConnectAsync(Uri, string, ChatClientOptions?, CancellationToken)"/> returns only
    /// once the server serves frames (a <c>ping</c> answered), i.e. the device is registered and its
    /// session announced, so messages sent to it from then on are pushed live. Without it a test
    /// that connected a user's second device and at once had others write could race the
    /// registration (found by the end-to-end tests).
    /// </summary>
    public bool WaitUntilReady { get; init; } = true;

    /// <summary>Send the token in the <c>access_token</c> query parameter (as a browser must) instead of a header.</summary>
    public bool TokenInQuery { get; init; }
}
