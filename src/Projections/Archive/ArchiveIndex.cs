using System.Globalization;
using System.Text;

namespace Messaging.Projections.Archive;

/// <summary>
/// Which chats a recorded file holds, and per chat the lowest and highest seq it mentions (an
/// event's own <c>seq</c> and, for edits, deletes and reactions, the target's
/// <c>message_seq</c>). Kept in the file's manifest entry (after the key, one line per chat), so
/// that erasing a deleted message reads only the files that can hold it, and a per-chat rebuild
/// from the archive only the files of that chat, instead of every file of the partition. Pure.
/// </summary>
public sealed class ArchiveIndex
{
    /// <summary>Marks the index format in the entry (an entry without it holds the key alone).</summary>
    private const string Header = "chat\tmin_seq\tmax_seq";

    private readonly Dictionary<string, (long Min, long Max)> _chats = new(StringComparer.Ordinal);

    public int Count => _chats.Count;

    /// <summary>The index of a file's rows (rows that did not decode have no chat).</summary>
    public static ArchiveIndex Of(IEnumerable<ArchiveRow> rows)
    {
        var index = new ArchiveIndex();
        foreach (var row in rows)
        {
            if (row.ChatId is { } chat && row.Seq is long seq)
            {
                index.Add(chat, seq);
                if (row.MessageSeq is long target)
                {
                    index.Add(chat, target);
                }
            }
        }

        return index;
    }

    /// <summary>Reads an entry's body back: the key, then <c>chat\tmin\tmax</c> lines. Null: a body with the key alone (no index recorded).</summary>
    public static ArchiveIndex? Parse(string body)
    {
        var lines = body.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (lines.Length < 2 || lines[1] != Header)
        {
            return null;
        }

        var index = new ArchiveIndex();
        for (var i = 2; i < lines.Length; i++)
        {
            var parts = lines[i].Split('\t');
            if (parts.Length == 3
                && long.TryParse(parts[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var min)
                && long.TryParse(parts[2], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var max))
            {
                index.Add(parts[0], min);
                index.Add(parts[0], max);
            }
        }

        return index;
    }

    public bool HasChat(string chatId) => _chats.ContainsKey(chatId);

    /// <summary>Whether the file may hold the message <paramref name="seq"/> of <paramref name="chatId"/> or an edit of it.</summary>
    public bool MayHold(string chatId, long seq) => _chats.TryGetValue(chatId, out var range) && range.Min <= seq && seq <= range.Max;

    /// <summary>The entry's body: the file's key (what entries held before the index), a header line, one line per chat in ordinal order.</summary>
    public string Format(string key)
    {
        var text = new StringBuilder(key).Append('\n').Append(Header).Append('\n');
        var chats = new List<string>(_chats.Keys);
        chats.Sort(StringComparer.Ordinal);
        foreach (var chat in chats)
        {
            var (min, max) = _chats[chat];
            text.Append(CultureInfo.InvariantCulture, $"{chat}\t{min}\t{max}\n");
        }

        return text.ToString();
    }

    /// <summary>Counts <paramref name="seq"/> of <paramref name="chat"/> in.</summary>
    public void Add(string chat, long seq) =>
        _chats[chat] = _chats.TryGetValue(chat, out var r) ? (Math.Min(r.Min, seq), Math.Max(r.Max, seq)) : (seq, seq);
}
