namespace Messaging.Contracts;

/// <summary>
/// What free text (message bodies, chat titles, file names, content types) may contain, shared by
/// Edge (which refuses a frame up front with <c>bad_frame</c>) and the Router (which never trusts a
/// command). Text that is accepted must also be stored: PostgreSQL <c>text</c> cannot hold NUL
/// (U+0000), and a lone UTF-16 surrogate cannot be encoded as UTF-8 at all (System.Text.Json
/// would write U+FFFD, so what members read would differ from what was accepted). Measured before
/// this rule (issue 8): a body with NUL was <c>message.accepted</c> and pushed live, then refused
/// by PostgreSQL, so it was missing from history and from <c>sync</c>.
/// </summary>
public static class TextRules
{
    /// <summary>Longest chat title in UTF-16 chars (a title is a label, not a message).</summary>
    public const int MaxTitleLength = 256;

    /// <summary>True when <paramref name="text"/> has no NUL and no unpaired surrogate.</summary>
    public static bool IsStorable(ReadOnlySpan<char> text)
    {
        // NUL and surrogates are rare: one vectorized scan settles almost every text.
        var at = text.IndexOfAnyInRange('\uD800', '\uDFFF');
        if (text[..(at < 0 ? text.Length : at)].Contains('\0'))
        {
            return false;
        }

        if (at < 0)
        {
            return true;
        }

        for (var i = at; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\0')
            {
                return false;
            }

            if (char.IsHighSurrogate(c))
            {
                if (i + 1 >= text.Length || !char.IsLowSurrogate(text[i + 1]))
                {
                    return false;
                }

                i++;
            }
            else if (char.IsLowSurrogate(c))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary><see cref="IsStorable(ReadOnlySpan{char})"/> for an optional value: null is storable (absent).</summary>
    public static bool IsStorable(string? text) => text is null || IsStorable(text.AsSpan());
}
