using Spectre.Console;

namespace Messaging.Hosting.Cli;

/// <summary>
/// The Spectre.Console console of the command-line tools (<c>make rebuild</c>, <c>make smoke</c>,
/// <c>make bench</c>). Spectre decides colour from <c>TERM</c> alone, so output piped into a log
/// file or CI carried ANSI escape codes, and it lays tables out for 80 columns, so a wide table in
/// a log wrapped into unreadable columns. When stdout is not a terminal (or <c>NO_COLOR</c> is
/// set) this console writes plain text, and non-terminal output is laid out <see cref="LogWidth"/>
/// columns wide (one table row per line).
/// </summary>
public static class PlainConsole
{
    /// <summary>Wide enough for the bench's step table (13 columns) and the rebuild's plan table on one line each.</summary>
    public const int LogWidth = 200;

    public static IAnsiConsole Create()
    {
        var redirected = Console.IsOutputRedirected;
        var plain = redirected || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"));
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = plain ? AnsiSupport.No : AnsiSupport.Detect,
            ColorSystem = plain ? ColorSystemSupport.NoColors : ColorSystemSupport.Detect,
            Interactive = redirected ? InteractionSupport.No : InteractionSupport.Detect,
        });
        if (redirected)
        {
            console.Profile.Width = LogWidth;
        }

        return console;
    }

    /// <summary>Makes <see cref="AnsiConsole.Console"/> (what <c>AnsiConsole.MarkupLine</c> and the rest write to) this console.</summary>
    public static void UseForProcess() => AnsiConsole.Console = Create();
}
