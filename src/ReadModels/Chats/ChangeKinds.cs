namespace Messaging.ReadModels.Chats;

/// <summary>
/// The <c>change</c> of a <c>chat.updated</c> frame; the same words as the <c>kind</c> column of
/// the <c>messages</c> read model, so live pushes and sync/history look alike.
/// </summary>
public static class ChangeKinds
{
    public const string Message = "message";
    public const string Created = "created";
    public const string MembersAdded = "members.added";
    public const string MemberRemoved = "member.removed";
    public const string MemberLeft = "member.left";
    public const string AdminGranted = "admin.granted";

    /// <summary>A row of a <c>MessageEdited</c> event (the <c>message.edited</c> frame); the message's own row holds the latest text.</summary>
    public const string MessageEdited = "message.edited";

    /// <summary>A row of a <c>MessageDeleted</c> event (the <c>message.deleted</c> frame); the message's own row is the tombstone.</summary>
    public const string MessageDeleted = "message.deleted";

    /// <summary>A row of a <c>ReactionChanged</c> event (the <c>reaction</c> frame); the message's own row holds the current reactions.</summary>
    public const string Reaction = "reaction";
}
