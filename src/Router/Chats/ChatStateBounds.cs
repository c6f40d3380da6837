using Messaging.Contracts;

namespace Messaging.Router.Chats;

/// <summary>
/// The largest <c>chat.state</c> record the limits allow, so a chat's state can always be written
/// (a state record the broker refuses would stop the chat's partition). Every field that goes
/// into the state is bounded: ids by <see cref="Ids"/> (ASCII, never escaped), the title by
/// <see cref="TextRules.MaxTitleLength"/> chars (each at most six bytes escaped, <c>\uXXXX</c>),
/// members by <c>Router:MaxGroupMembers</c>, remembered messages by <c>Router:RecentClientMsgIds</c>.
/// With the defaults (1,024 members, 1,000 recent messages):
/// <code>
///   envelope  200 + 259 (chat id) + 6 × 256 (title)              =   1,995
///   members   1,024 × (64 + 128)    {"userId":…,"role":…,"joinedSeq":…}  = 196,608
///   recent    1,000 × (140 + 3 × 128) {"clientMsgId":…,"seq":…,"messageId":…,"sender":…,"at":…,"encrypted":…,"deleted":…} = 524,000
///   total                                                         = 722,603 bytes
/// </code>
/// (Before edits and deletes, issue 11, a recent entry had no sender, time or flags: 1,000 × (80 + 2 × 128) = 336,000, total 534,603.)
/// under <c>Router:MaxStateRecordBytes</c> (1,000,000: librdkafka's default <c>message.max.bytes</c>
/// and Kafka 0.9's broker default of 1,000,012, the lower of the two). The options validator
/// refuses limits whose worst case does not fit; ChatStateBoundsTests encodes a worst-case state
/// with the real codec (512,521 bytes) and checks it stays under this figure.
/// </summary>
public static class ChatStateBounds
{
    /// <summary>Type, version, kind, seq and offset fields, braces and commas (generous).</summary>
    public const int EnvelopeBytes = 200;

    /// <summary>A member entry besides its user id: field names, role, a 20-digit seq.</summary>
    public const int MemberOverheadBytes = 64;

    /// <summary>A recent-message entry besides its three ids (client message id, message id, sender): field names, a 20-digit seq and time, two flags.</summary>
    public const int RecentOverheadBytes = 140;

    /// <summary>Ids of at most <see cref="Ids.MaxLength"/> in a recent-message entry.</summary>
    public const int RecentIds = 3;

    /// <summary>Worst-case escaped bytes per UTF-16 char of free text (<c>\uXXXX</c>).</summary>
    public const int EscapedCharBytes = 6;

    public static long WorstCaseBytes(ChatLimits limits) =>
        EnvelopeBytes + Ids.MaxChatIdLength + ((long)EscapedCharBytes * TextRules.MaxTitleLength)
        + ((long)limits.MaxGroupMembers * (MemberOverheadBytes + Ids.MaxLength))
        + ((long)limits.RecentClientMsgIds * (RecentOverheadBytes + (RecentIds * Ids.MaxLength)));
}
