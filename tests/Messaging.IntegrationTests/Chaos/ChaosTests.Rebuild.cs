using System.Globalization;
using Messaging.IntegrationTests.Projections;

namespace Messaging.IntegrationTests.Chaos;

/// <summary>
/// The checker's last step: every read model, as the live projections left it after all the
/// faults, equals a rebuild of it from the log (<c>rebuild --projection all</c>: shadow tables,
/// then the swap), row for row, in every table the projections own.
/// </summary>
public sealed partial class ChaosTests
{
    /// <summary>Every table of the chat, inbox and presence projections (their <c>Tables</c>).</summary>
    private static readonly string[] ReadModelTables = ["chats", "chat_members", "messages", "read_markers", "device_cursors", "presence"];

    private async Task CheckReadModelsEqualARebuildAsync()
    {
        // Quiet first: with every device gone no session is re-announced, so the logs stop
        // growing and the live projections reach their end (then live and rebuild see one log).
        // (Closed, not disposed: the ChatSystem disposes every client it connected.)
        await _flooder.CloseAsync();
        foreach (var client in _clients.Values)
        {
            await client.CloseAsync();
        }

        var differences = "";
        var rows = 0;
        var deadline = _clock.Elapsed + Timeout;
        do
        {
            var live = await DumpReadModelsAsync();
            var (code, output) = await ProjectionsTestContext.CliAsync(_system.Settings, "rebuild", "--projection", "all");
            code.Should().Be(0, output);
            var rebuilt = await DumpReadModelsAsync();
            // The live runners may still have been applying the last session records when the
            // dump was taken: then the next round (on the swapped tables) compares again.
            differences = string.Join("; ", ReadModelTables.Where(t => !live[t].SequenceEqual(rebuilt[t], StringComparer.Ordinal))
                .Select(t => $"{t}: {live[t].Count} live rows, {rebuilt[t].Count} rebuilt, first difference {live[t].Except(rebuilt[t]).Concat(rebuilt[t].Except(live[t])).FirstOrDefault()}"));
            rows = live.Values.Sum(r => r.Count);
        }
        while (differences.Length > 0 && _clock.Elapsed < deadline);

        differences.Should().BeEmpty("every read model equals a rebuild of it from the log");
        _notes.Add(string.Create(CultureInfo.InvariantCulture, $"read models equal to a rebuild from the log: {string.Join(", ", ReadModelTables)} ({rows} rows)"));
    }

    private async Task<Dictionary<string, List<string>>> DumpReadModelsAsync()
    {
        var result = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var table in ReadModelTables)
        {
            await using var command = _system.Database.CreateCommand($"select t::text from {table} t order by 1");
            await using var reader = await command.ExecuteReaderAsync();
            var rows = new List<string>();
            while (await reader.ReadAsync())
            {
                rows.Add(reader.GetString(0));
            }

            result[table] = rows;
        }

        return result;
    }
}
