namespace Messaging.Contracts;

/// <summary>
/// The character sets of ids, shared by Edge (which refuses bad ids up front with
/// <c>bad_frame</c> / HTTP 400) and the Router (which never trusts a command). Printable ASCII
/// only: no control characters (PostgreSQL refuses NUL in text, and logs and topic keys must not
/// carry line breaks), no spaces.
/// <list type="bullet">
/// <item>user id: <c>[A-Za-z0-9._@+-]</c>, 1..MaxLength: no ':' (direct chat ids <c>d:a:b</c>
/// use it) and no '/' (device addresses <c>user/device</c> use it).</item>
/// <item>device id: <c>[A-Za-z0-9._@+:-]</c>, 1..MaxLength (':' allowed, '/' not).</item>
/// <item>chat id: <c>[A-Za-z0-9._@+:-]</c>, 1..MaxLength (direct chat ids are <c>d:{a}:{b}</c>,
/// so up to 2 × user id + 3).</item>
/// <item>client message id: the device id set (see <see cref="IsValidClientMsgId"/>).</item>
/// </list>
/// </summary>
public static class Ids
{
    /// <summary>Longest user or device id; a chat id may be up to <see cref="MaxChatIdLength"/>.</summary>
    public const int MaxLength = 128;

    /// <summary>Room for a direct chat id <c>d:{user}:{user}</c>.</summary>
    public const int MaxChatIdLength = (2 * MaxLength) + 3;

    public static bool IsValidUserId(ReadOnlySpan<char> id) => IsValid(id, MaxLength, allowColon: false);

    public static bool IsValidDeviceId(ReadOnlySpan<char> id) => IsValid(id, MaxLength, allowColon: true);

    public static bool IsValidChatId(ReadOnlySpan<char> id) => IsValid(id, MaxChatIdLength, allowColon: true);

    /// <summary>
    /// A client message id (and the message id Edge assigns) has the device id character set: the
    /// Router keeps the last <c>Router:RecentClientMsgIds</c> of each chat in its state record, so
    /// each must have a known encoded size (no JSON escaping) for that record to stay under the
    /// broker's limit. A GUID, a ULID or <c>device.counter</c> all fit.
    /// </summary>
    public static bool IsValidClientMsgId(ReadOnlySpan<char> id) => IsValid(id, MaxLength, allowColon: true);

    private static bool IsValid(ReadOnlySpan<char> id, int maxLength, bool allowColon)
    {
        if (id.IsEmpty || id.Length > maxLength)
        {
            return false;
        }

        foreach (var c in id)
        {
            var ok = c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '.' or '_' or '@' or '+' or '-'
                || (allowColon && c == ':');
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }
}
