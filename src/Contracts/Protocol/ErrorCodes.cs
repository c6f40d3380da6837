namespace Messaging.Contracts.Protocol;

/// <summary>Stable error codes of <c>error</c> frames and HTTP problem details (docs/protocol.md).</summary>
public static class ErrorCodes
{
    public const string BadFrame = "bad_frame";
    public const string UnknownType = "unknown_type";
    public const string TooLarge = "too_large";
    public const string Unauthorized = "unauthorized";
    public const string NotMember = "not_member";
    public const string NotAdmin = "not_admin";
    public const string UnknownChat = "unknown_chat";
    public const string ChatExists = "chat_exists";
    public const string TooManyMembers = "too_many_members";
    public const string TooManyDevices = "too_many_devices";
    public const string Unavailable = "unavailable";
    public const string RateLimited = "rate_limited";
    public const string DeviceRemoved = "device_removed";
    public const string TokenExpired = "token_expired";
    public const string Internal = "internal";

    /// <summary>The message is not one of this chat's messages the Router remembers (docs/router.md, "Recent messages").</summary>
    public const string UnknownMessage = "unknown_message";

    /// <summary>Edit of another user's message, or delete of one by a member who is not a group admin.</summary>
    public const string NotAllowed = "not_allowed";

    /// <summary>Edit or delete after <c>Chat:EditWindowMinutes</c> / <c>Chat:DeleteWindowHours</c>.</summary>
    public const string WindowPassed = "window_passed";

    /// <summary>Edit, reaction or reply to a message that was deleted for everyone.</summary>
    public const string MessageDeleted = "message_deleted";

    /// <summary>Per-device payloads whose devices are not exactly the chat's: the error carries the current list.</summary>
    public const string DeviceListChanged = "device_list_changed";
}

/// <summary>WebSocket close codes the server uses (4000-4999 is the application range).</summary>
public static class CloseCodes
{
    /// <summary>The token is missing, malformed, forged or expired (sent before upgrade as HTTP 401 where possible).</summary>
    public const int Unauthorized = 4001;

    /// <summary>A second connection for the same device replaced this one.</summary>
    public const int Replaced = 4002;

    /// <summary>The client did not read fast enough: its bounded send queue filled up.</summary>
    public const int SlowConsumer = 4003;

    /// <summary>The user already has the maximum number of devices.</summary>
    public const int TooManyDevices = 4004;

    /// <summary>The device was removed from the account.</summary>
    public const int DeviceRemoved = 4005;

    /// <summary>A frame exceeded the maximum frame size (RFC 6455 1009 "message too big").</summary>
    public const int MessageTooBig = 1009;
}
