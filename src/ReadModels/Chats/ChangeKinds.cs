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
}
