using System.ComponentModel.DataAnnotations;

namespace Messaging.Router.Chats;

/// <summary>Conversation rules (section <c>Chat</c>), validated at start.</summary>
public sealed class ChatOptions
{
    public const string Section = "Chat";

    public const int DefaultEditWindowMinutes = 15;

    public const int DefaultDeleteWindowHours = 48;

    /// <summary>How long after sending its sender may edit a message (WhatsApp: 15 minutes). 0 turns edits off.</summary>
    [Range(0, 7 * 24 * 60)]
    public int EditWindowMinutes { get; set; } = DefaultEditWindowMinutes;

    /// <summary>How long after sending its sender may delete it for everyone (WhatsApp: about two days). Group admins may at any time.</summary>
    [Range(0, 365 * 24)]
    public int DeleteWindowHours { get; set; } = DefaultDeleteWindowHours;

    /// <summary>The Router's chat limits with these windows.</summary>
    public ChatLimits Apply(ChatLimits limits) => limits with
    {
        EditWindow = TimeSpan.FromMinutes(EditWindowMinutes),
        DeleteWindow = TimeSpan.FromHours(DeleteWindowHours),
    };
}
