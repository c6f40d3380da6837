namespace Messaging.Contracts;

/// <summary>
/// Rules for message content beyond <see cref="TextRules"/>, shared by Edge (which refuses a
/// frame up front) and the Router (which never trusts a command): per-device payloads and
/// reaction emoji.
/// </summary>
public static class ContentRules
{
    /// <summary>
    /// Longest reaction in UTF-16 chars: one emoji, but a ZWJ sequence with skin tones (a family,
    /// a couple kissing) takes up to ~15 chars; 32 leaves room without letting a reaction be a message.
    /// </summary>
    public const int MaxEmojiLength = 32;

    /// <summary>A reaction: null (remove) or 1-<see cref="MaxEmojiLength"/> chars of storable text.</summary>
    public static bool IsValidEmoji(string? emoji) =>
        emoji is null || (emoji.Length is > 0 and <= MaxEmojiLength && TextRules.IsStorable(emoji));

    /// <summary>
    /// Checks per-device payloads: at least one, each keyed by a device address (valid user and
    /// device ids) and each a non-empty base64 string of at most <paramref name="maxBytes"/>
    /// (the body limit applies per payload; base64 is ASCII, one byte per char). Returns the
    /// problem, or null. The server never decodes a ciphertext: the character check only keeps
    /// what is stored and pushed to the base64 alphabet.
    /// </summary>
    public static (bool TooLarge, string Message)? PayloadsProblem(IReadOnlyDictionary<string, string> payloads, int maxBytes)
    {
        if (payloads.Count == 0)
        {
            return (false, "'payloads' must not be empty");
        }

        foreach (var (address, ciphertext) in payloads)
        {
            if (!DeviceRef.TryParse(address, out var device) || !Ids.IsValidUserId(device.UserId) || !Ids.IsValidDeviceId(device.DeviceId))
            {
                return (false, "a 'payloads' key is not a device address userId/deviceId");
            }

            if (string.IsNullOrEmpty(ciphertext) || !IsBase64(ciphertext))
            {
                return (false, $"the payload of {address} is not base64");
            }

            if (ciphertext.Length > maxBytes)
            {
                return (true, $"the payload of {address} exceeds {maxBytes} bytes");
            }
        }

        return null;
    }

    private static bool IsBase64(string text)
    {
        if (text.Length % 4 != 0)
        {
            return false;
        }

        var padding = text.EndsWith("==", StringComparison.Ordinal) ? 2 : text.EndsWith('=') ? 1 : 0;
        var end = text.Length - padding;
        for (var i = 0; i < end; i++)
        {
            var c = text[i];
            if (!char.IsAsciiLetterOrDigit(c) && c != '+' && c != '/')
            {
                return false;
            }
        }

        return true;
    }
}
