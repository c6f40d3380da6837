using System.Text.Json.Serialization;

namespace Messaging.Contracts.Protocol;

/// <summary>The words of receipts and typing on the wire (docs/protocol.md, "Receipts and typing").</summary>
public static class ConversationStates
{
    /// <summary>Receipt state: at least one device of the user acknowledged (stored) the messages.</summary>
    public const string Delivered = "delivered";

    /// <summary>Receipt state: the user read the messages (a <c>read</c> frame from any of their devices).</summary>
    public const string Read = "read";

    public const string Started = "started";

    public const string Stopped = "stopped";

    public static bool IsTypingState(string? value) => value is Started or Stopped;

    public static bool IsReceiptState(string? value) => value is Delivered or Read;
}

/// <summary>Cumulative: the user has read the chat up to <see cref="Seq"/> (no reply; errors as for <c>ack</c>).</summary>
public sealed record ReadFrame : ClientFrame
{
    public required string ChatId { get; init; }

    public required long Seq { get; init; }
}

/// <summary>The user started or stopped typing in a chat (<see cref="ConversationStates.Started"/> / <see cref="ConversationStates.Stopped"/>); renew <c>started</c> before <c>expiresInMs</c>.</summary>
public sealed record TypingFrame : ClientFrame
{
    public required string ChatId { get; init; }

    public required string State { get; init; }
}

/// <summary>Changes the caller's user settings; the reply is <c>settings</c> with the values now in force.</summary>
public sealed record SetSettingsFrame : ClientFrame
{
    /// <summary>Off: this user's reads are shown to nobody and the user sees nobody's (as in WhatsApp). Null leaves it unchanged.</summary>
    public bool? ReadReceipts { get; init; }
}

/// <summary>One user's cumulative progress in a receipt: every seq up to <see cref="Seq"/>.</summary>
public sealed record UserReceipt(string UserId, long Seq, DateTimeOffset At);

/// <summary>
/// Pushed to a sender's devices: these users delivered (or read) the chat up to their seq. One
/// frame carries every user whose progress moved within an interval (<c>Receipts:FlushMs</c>),
/// per user (not per device), never about the receiving device's own user, and only to the
/// senders of messages in the range the node's receipts of that interval cover.
/// </summary>
public sealed record ReceiptFrame : ServerFrame
{
    public required string ChatId { get; init; }

    /// <summary><see cref="ConversationStates.Delivered"/> or <see cref="ConversationStates.Read"/>.</summary>
    public required string State { get; init; }

    public required IReadOnlyList<UserReceipt> Receipts { get; init; }
}

/// <summary>Another member started or stopped typing; a <c>started</c> not renewed within <see cref="ExpiresInMs"/> means stopped.</summary>
public sealed record TypingPushFrame : ServerFrame
{
    public required string ChatId { get; init; }

    public required string UserId { get; init; }

    public required string State { get; init; }

    public required int ExpiresInMs { get; init; }
}

/// <summary>Pushed to the reader's own devices: their user has read the chat up to <see cref="Seq"/> (from any of them).</summary>
public sealed record ReadMarkerFrame : ServerFrame
{
    public required string ChatId { get; init; }

    public required long Seq { get; init; }

    public required DateTimeOffset At { get; init; }
}

/// <summary>The caller's settings (reply to <c>settings.set</c>).</summary>
public sealed record SettingsFrame : ServerFrame
{
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? Id { get; init; }

    public required bool ReadReceipts { get; init; }
}
