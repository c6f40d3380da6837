using Messaging.Contracts;

namespace Messaging.Edge.Media;

/// <summary>
/// Attachment keys: <c>m/{uploaderUserId}/{uuid, 32 hex}</c>. Keys from before the uploader was
/// part of them, <c>m/{uuid}</c>, are still valid (they have no uploader: only chat members get
/// them). Anything else is not an attachment key.
/// </summary>
internal static class MediaKeys
{
    private const string Prefix = "m/";
    private const int UuidLength = 32;

    public static string New(string uploaderUserId, Guid id) => Prefix + uploaderUserId + "/" + id.ToString("N");

    public static bool IsValid(string key) => TryParse(key, out _);

    /// <summary>The uploader's user id in <paramref name="key"/> (null for an old key without one); false when it is not a key.</summary>
    public static bool TryParse(string key, out string? uploader)
    {
        uploader = null;
        if (!key.StartsWith(Prefix, StringComparison.Ordinal) || key.Length < Prefix.Length + UuidLength
            || !Guid.TryParseExact(key.AsSpan(key.Length - UuidLength), "N", out _))
        {
            return false;
        }

        var rest = key.AsSpan(Prefix.Length, key.Length - Prefix.Length - UuidLength);
        if (rest.IsEmpty)
        {
            return true;
        }

        if (rest.Length < 2 || rest[^1] != '/' || !Ids.IsValidUserId(rest[..^1]))
        {
            return false;
        }

        uploader = rest[..^1].ToString();
        return true;
    }
}
