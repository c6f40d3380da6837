using System.CommandLine;
using Messaging.Bench.Cli;
using Spectre.Console;

namespace Messaging.Bench.Smoke;

public static class SmokeCommand
{
    public static Command Create()
    {
        var edges = CommonOptions.Edges();
        var timeout = CommonOptions.Seconds("--timeout", 15, "fail if the message has not arrived after this long");
        var command = new Command("smoke", "Two users on two Edge nodes: create a chat, send a message, receive it; prints the latency") { edges, timeout };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var test = new SmokeTest(CommonOptions.ParseEdges(parse.GetValue(edges)), TimeSpan.FromSeconds(parse.GetValue(timeout)), AnsiConsole.Console);
            return await test.RunAsync(cancellationToken);
        });
        return command;
    }
}
